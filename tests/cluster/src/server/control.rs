//! The private control API under `/testcluster/`, for the binary and demos:
//!
//! * `/testcluster/faults`: `GET` the current faults, `POST` a [`FaultRequest`] to add, `DELETE` to clear.
//! * `/testcluster/rbac`: `GET` the deny rules, `POST` a [`ForbidRule`] to add, `DELETE` to clear.
//! * `/testcluster/logs`: `POST` `{"namespace", "pod", "container", "previous", "text"}` to seed a log.
//! * `/testcluster/requests`: `GET` the log of API requests answered, `DELETE` to empty it.

use axum::extract::Request;
use axum::response::Response;
use http::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::errors::ApiError;
use crate::faults::FaultRequest;
use crate::rbac::ForbidRule;

use super::App;
use super::response::{self, error_response};

#[derive(Deserialize)]
struct LogRequest {
    namespace: String,
    pod: String,
    container: String,
    #[serde(default)]
    previous: bool,
    text: String,
}

async fn body<T: DeserializeOwned>(request: Request) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid control request: {e}")))
}

/// Answers a control request at `/testcluster/<rest>`.
pub async fn handle(app: &App, rest: &str, request: Request) -> Response {
    let method = request.method().clone();
    let result = match (rest, method) {
        ("faults", Method::GET) => Ok(response::json(200, &json!(app.faults.snapshot()))),
        ("faults", Method::POST) => body::<FaultRequest>(request).await.map(|r| {
            app.faults.apply(r);
            response::json(200, &json!(app.faults.snapshot()))
        }),
        ("faults", Method::DELETE) => {
            app.faults.clear();
            Ok(response::json(200, &json!(app.faults.snapshot())))
        }
        ("rbac", Method::GET) => Ok(response::json(200, &json!(app.rbac.rules()))),
        ("rbac", Method::POST) => body::<ForbidRule>(request).await.map(|rule| {
            app.rbac.forbid(rule);
            response::json(200, &json!(app.rbac.rules()))
        }),
        ("rbac", Method::DELETE) => {
            app.rbac.clear();
            Ok(response::json(200, &json!(app.rbac.rules())))
        }
        ("logs", Method::POST) => body::<LogRequest>(request).await.map(|r| {
            app.store
                .logs()
                .set(&r.namespace, &r.pod, &r.container, r.previous, &r.text);
            response::json(200, &json!({}))
        }),
        ("requests", Method::GET) => Ok(response::json(200, &json!(app.faults.requests()))),
        ("requests", Method::DELETE) => {
            app.faults.clear_requests();
            Ok(response::json(200, &json!([])))
        }
        _ => Err(super::route::not_found()),
    };
    result.unwrap_or_else(|err| error_response(&err))
}
