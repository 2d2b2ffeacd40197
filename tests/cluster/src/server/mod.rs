//! The HTTP side: an accept loop serving HTTP/1.1, the request pipeline (latency and failure
//! faults, routing, RBAC) and the handlers of every verb.
//!
//! Private control paths (not part of the Kubernetes API): `/testcluster/faults`,
//! `/testcluster/rbac`, `/testcluster/logs` and `/testcluster/requests`, described in the
//! `control` module: `GET` shows, `POST` adds (JSON body), `DELETE` clears. Example:
//! `curl -X POST $URL/testcluster/faults -d '{"fail": {"path": "/pods", "count": 2, "action": {"status": 503}}}'`.

mod admission;
mod control;
mod crud;
mod discovery;
mod params;
mod response;
mod route;
mod subresources;
mod table;
mod watch;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower::ServiceExt;

use crate::errors::ApiError;
use crate::faults::{FaultAction, Faults};
use crate::rbac::{Rbac, RequestAttributes};
use crate::store::Store;

pub use response::error_response;

/// Everything a request handler needs.
#[derive(Clone)]
pub struct App {
    /// The objects.
    pub store: Store,
    /// Fault injection settings.
    pub faults: Faults,
    /// Deny rules.
    pub rbac: Rbac,
}

/// Closes the connection a request came on (the `reset` fault).
#[derive(Clone)]
struct ConnectionKiller(Arc<Notify>);

/// The API as an axum router (usable in-process, e.g. with `kube::Client::new(router, ns)`).
pub fn router(app: App) -> axum::Router {
    axum::Router::new()
        .fallback(handle)
        .with_state(Arc::new(app))
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(listener: TcpListener, app: App, shutdown: impl Future<Output = ()>) {
    let router = router(app);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let killer = Arc::new(Notify::new());
            let kill_signal = Arc::clone(&killer);
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(ConnectionKiller(Arc::clone(&killer)));
                    let router = router.clone();
                    async move {
                        let response = router.oneshot(request.map(Body::new)).await;
                        Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
                    }
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                () = kill_signal.notified() => {}
            }
        });
    }
}

/// The single entry point of every request.
async fn handle(State(app): State<Arc<App>>, request: Request) -> Response {
    let latency = app.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let path = request.uri().path().to_string();
    if let Some(rest) = path.strip_prefix("/testcluster/") {
        return control::handle(&app, rest, request).await;
    }
    app.faults.record(
        request.method().as_str(),
        &path,
        request.uri().query().unwrap_or(""),
    );
    if let Some(action) = app.faults.take_failure(request.method().as_str(), &path) {
        match action {
            FaultAction::Status(code) => return error_response(&injected_error(code)),
            FaultAction::Reset => {
                if let Some(killer) = request.extensions().get::<ConnectionKiller>() {
                    killer.0.notify_one();
                }
                return std::future::pending().await;
            }
        }
    }
    match route::parse(&path) {
        route::Route::Discovery(target) => discovery::handle(target, &request),
        route::Route::Resource(target) => {
            let query = match params::Query::parse(request.uri().query().unwrap_or("")) {
                Ok(query) => query,
                Err(err) => return error_response(&err),
            };
            let Some(verb) = route::verb(request.method(), &target, &query) else {
                return error_response(&ApiError::method_not_allowed(
                    "the server does not allow this method on the requested resource",
                ));
            };
            let attributes = RequestAttributes {
                verb,
                group: target.resource.group,
                resource: target.resource.plural,
                subresource: target.subresource.as_deref(),
                namespace: target.namespace.as_deref(),
                name: target.name.as_deref().unwrap_or(""),
            };
            if let Err(err) = app.rbac.authorize(&attributes) {
                return error_response(&err);
            }
            crud::dispatch(&app, verb, target, query, request).await
        }
        route::Route::NotFound => error_response(&route::not_found()),
    }
}

/// The error an injected failure answers with.
fn injected_error(code: u16) -> ApiError {
    let message = format!("injected fault: HTTP {code}");
    match code {
        409 => ApiError::new(409, "Conflict", message),
        429 => ApiError::too_many_requests(message)
            .with_details(serde_json::json!({"retryAfterSeconds": 1})),
        500 => ApiError::new(500, "InternalError", message),
        503 => ApiError::service_unavailable(message),
        504 => ApiError::new(504, "Timeout", message),
        404 => ApiError::new(404, "NotFound", message),
        403 => ApiError::new(403, "Forbidden", message),
        code => ApiError::new(code, "", message),
    }
}
