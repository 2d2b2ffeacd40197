//! The verbs on resources: get, list, create, update, patch, delete, deletecollection, and the
//! dispatch to watch and subresources.

use std::sync::Arc;

use axum::extract::Request;
use axum::response::Response;
use base64::Engine;
use http::header;
use serde_json::{Value, json};

use crate::controllers::Operation;
use crate::errors::ApiError;
use crate::patch;
use crate::rbac::RequestAttributes;
use crate::resources::{METRICS_GROUP, ResourceType};
use crate::store::{DeleteOptions, Deletion, str_at};
use crate::{defaults, validation};

use super::App;
use super::admission::Admission;
use super::params::Query;
use super::response::{self, ListMeta, Representation, error_response, respond};
use super::route::ResourceTarget;
use super::{subresources, table, watch};

const MAX_BODY: usize = 64 << 20;

/// One request on a resource, with its decoded parts.
pub struct Call<'a> {
    /// Shared state.
    pub app: &'a App,
    /// What the URL addresses.
    pub target: &'a ResourceTarget,
    /// Query parameters.
    pub query: &'a Query,
    /// Request `Content-Type`.
    pub content_type: String,
    /// How the client wants objects rendered.
    pub representation: Representation,
    /// Raw request body.
    pub body: bytes::Bytes,
}

impl Call<'_> {
    /// The resource type.
    pub fn resource(&self) -> &'static ResourceType {
        self.target.resource
    }

    /// The store key of the resource.
    pub fn key(&self) -> String {
        self.target.resource.store_key()
    }

    /// Namespace of the URL.
    pub fn namespace(&self) -> Option<&str> {
        self.target.namespace.as_deref()
    }

    /// Name of the URL ("" for collections).
    pub fn name(&self) -> &str {
        self.target.name.as_deref().unwrap_or("")
    }

    /// The body decoded as JSON (or YAML for apply patches).
    pub fn decode_body(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Err(ApiError::bad_request("the body of the request was empty"));
        }
        if self
            .content_type
            .starts_with("application/vnd.kubernetes.protobuf")
        {
            return crate::protobuf::decode(&self.body).map_err(|err| match err {
                crate::protobuf::ProtobufError::UnsupportedKind(_) => {
                    ApiError::new(415, "UnsupportedMediaType", err.to_string())
                }
                crate::protobuf::ProtobufError::Malformed(_) => {
                    ApiError::bad_request(err.to_string())
                }
            });
        }
        let decoded = if self.content_type.contains("yaml") {
            serde_saphyr::from_slice::<Value>(&self.body).map_err(|e| e.to_string())
        } else {
            serde_json::from_slice::<Value>(&self.body).map_err(|e| e.to_string())
        };
        decoded.map_err(|e| {
            ApiError::bad_request(format!("the body of the request could not be decoded: {e}"))
        })
    }
}

fn header_text(request: &Request, name: header::HeaderName) -> String {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Runs the handler of `verb` on `target`.
pub async fn dispatch(
    app: &App,
    verb: &'static str,
    target: ResourceTarget,
    query: Query,
    request: Request,
) -> Response {
    let content_type = header_text(&request, header::CONTENT_TYPE);
    let representation = Representation::from_accept(&header_text(&request, header::ACCEPT));
    let body = match axum::body::to_bytes(request.into_body(), MAX_BODY).await {
        Ok(body) => body,
        Err(err) => {
            return error_response(&ApiError::bad_request(format!(
                "reading the request body: {err}"
            )));
        }
    };
    let call = Call {
        app,
        target: &target,
        query: &query,
        content_type,
        representation,
        body,
    };
    if verb == "watch" {
        return watch::serve(&call);
    }
    let result = match (verb, target.subresource.as_deref()) {
        ("list", None) => list(&call),
        ("get", None | Some("status")) => get(&call),
        ("create", None) => create(&call),
        ("create", Some("eviction")) => subresources::evict(&call),
        ("update", None | Some("finalize")) => update(&call),
        ("update", Some("status")) => update_status(&call),
        ("patch", None | Some("status")) => patch(&call),
        ("delete", None) => delete(&call),
        ("deletecollection", None) => delete_collection(&call),
        (_, Some("scale")) => subresources::scale(&call, verb),
        ("get", Some("log")) => subresources::log(&call),
        _ => Err(ApiError::method_not_allowed(
            "the server does not allow this method on the requested resource",
        )),
    };
    respond(result)
}

/// The NotFound error of this resource type (metrics-server words its own).
fn not_found(resource: &ResourceType, namespace: Option<&str>, name: &str) -> ApiError {
    if resource.group == METRICS_GROUP {
        let qualified = format!("{}.{}", resource.kind.to_lowercase(), resource.group);
        let shown = namespace.map_or_else(|| name.to_string(), |ns| format!("{ns}/{name}"));
        return ApiError::not_found(&qualified, &shown);
    }
    ApiError::not_found(&resource.qualified(), name)
}

/// The stored object the call addresses, or 404.
pub fn current(call: &Call<'_>) -> Result<Arc<Value>, ApiError> {
    call.app
        .store
        .get_shared(&call.key(), call.namespace(), call.name())
        .ok_or_else(|| not_found(call.resource(), call.namespace(), call.name()))
}

fn get(call: &Call<'_>) -> Result<Response, ApiError> {
    let obj = current(call)?;
    Ok(match call.representation {
        Representation::Table => response::json(200, &table::render(call.resource(), &[obj], None)),
        Representation::Metadata => response::json(200, &response::partial_metadata(&obj)),
        Representation::Object => response::json(200, &obj),
    })
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    rv: u64,
    start: String,
}

/// Where an object sits in list order: (namespace, name), as the store sorts.
fn position(obj: &Value) -> (&str, &str) {
    (str_at(obj, "namespace"), str_at(obj, "name"))
}

fn decode_continue(token: &str) -> Result<ContinueToken, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

fn encode_continue(token: &ContinueToken) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(token).unwrap_or_default())
}

/// The objects of a collection request matching its selectors, with the list's resource version.
pub fn select(call: &Call<'_>) -> Result<(Vec<Arc<Value>>, u64), ApiError> {
    let plural = call.resource().plural;
    call.query
        .field_selector
        .check_supported(plural)
        .map_err(ApiError::bad_request)?;
    let (items, rv) = call.app.store.list_shared(&call.key(), call.namespace());
    let labels = &call.query.label_selector;
    let fields = &call.query.field_selector;
    let items = items
        .into_iter()
        .filter(|o| labels.matches(o) && fields.matches(plural, o))
        .collect();
    Ok((items, rv))
}

fn list(call: &Call<'_>) -> Result<Response, ApiError> {
    let (mut items, mut rv) = select(call)?;
    if let Some(token) = call.query.continue_token.as_deref() {
        let token = decode_continue(token)?;
        if call.app.store.events_since(token.rv).is_err() {
            return Err(ApiError::gone(
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
            ));
        }
        rv = token.rv;
        let after = token
            .start
            .split_once('/')
            .unwrap_or(("", token.start.as_str()));
        let first = items.partition_point(|o| position(o) <= after);
        items.drain(..first);
    }
    let mut meta = ListMeta {
        resource_version: rv,
        continue_token: None,
        remaining: None,
    };
    let limit = call.query.limit;
    if limit > 0 && items.len() > limit {
        let remaining = items.len() - limit;
        items.truncate(limit);
        let start = items.last().map(|o| {
            let (ns, name) = position(o);
            format!("{ns}/{name}")
        });
        let start = start.unwrap_or_default();
        meta.continue_token = Some(encode_continue(&ContinueToken { rv, start }));
        let filtered =
            !call.query.label_selector.is_empty() || !call.query.field_selector.is_empty();
        meta.remaining = (!filtered).then_some(remaining);
    }
    let resource = call.resource();
    Ok(match call.representation {
        Representation::Table => response::json(200, &table::render(resource, &items, Some(&meta))),
        Representation::Metadata => {
            let partial: Vec<Arc<Value>> = items
                .iter()
                .map(|o| Arc::new(response::partial_metadata(o)))
                .collect();
            response::list("PartialObjectMetadata", "meta.k8s.io/v1", &meta, &partial)
        }
        Representation::Object => {
            response::list(resource.kind, &resource.api_version(), &meta, &items)
        }
    })
}

/// Checks `apiVersion`, `kind`, name and namespace of a body against the URL and fills them in.
fn check_identity(call: &Call<'_>, obj: &mut Value, name_from_url: bool) -> Result<(), ApiError> {
    let resource = call.resource();
    let Some(map) = obj.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the body of the request is not a JSON object",
        ));
    };
    let api_version = resource.api_version();
    match map.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("apiVersion".into(), json!(api_version));
        }
        Some(given) if given != api_version => {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({given}) does not match the expected API version ({api_version})"
            )));
        }
        Some(_) => {}
    }
    match map.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            map.insert("kind".into(), json!(resource.kind));
        }
        Some(given) if given != resource.kind => {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({given}) does not match the expected kind ({})",
                resource.kind
            )));
        }
        Some(_) => {}
    }
    let meta = crate::store::metadata_mut(obj);
    if let Some(ns) = call.namespace() {
        match meta.get("namespace").and_then(Value::as_str) {
            None | Some("") => {
                meta.insert("namespace".into(), json!(ns));
            }
            Some(given) if given != ns => {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            Some(_) => {}
        }
    }
    if name_from_url {
        let given = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if given != call.name() {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({given}) does not match the name on the URL ({})",
                call.name()
            )));
        }
    }
    Ok(())
}

fn require_namespace(call: &Call<'_>) -> Result<(), ApiError> {
    if let Some(ns) = call.namespace()
        && call.app.store.get_shared("namespaces", None, ns).is_none()
    {
        return Err(ApiError::not_found("namespaces", ns));
    }
    Ok(())
}

fn create(call: &Call<'_>) -> Result<Response, ApiError> {
    let resource = call.resource();
    let mut obj = call.decode_body()?;
    check_identity(call, &mut obj, false)?;
    if resource.plural == "selfsubjectaccessreviews" {
        return Ok(response::json(201, &access_review(call, obj)));
    }
    if resource.plural == "selfsubjectreviews" {
        obj["status"] = json!({"userInfo": {
            "username": crate::rbac::TEST_USER,
            "groups": ["system:authenticated"],
        }});
        return Ok(response::json(201, &obj));
    }
    require_namespace(call)?;
    if resource.has_status()
        && resource.kind != "Node"
        && let Some(map) = obj.as_object_mut()
    {
        map.remove("status");
    }
    Admission::load(call, Operation::Create).admit(resource, &mut obj, None)?;
    if resource.kind == "Pod" {
        let qos = defaults::qos_class(obj.get("spec").unwrap_or(&Value::Null));
        obj["status"] = json!({"phase": "Pending", "qosClass": qos});
    }
    let created = call
        .app
        .store
        .create_with(&call.key(), obj, call.query.dry_run)?;
    Ok(response::json(201, &created))
}

/// Answers a SelfSubjectAccessReview from the deny rules.
fn access_review(call: &Call<'_>, mut review: Value) -> Value {
    let attrs = review
        .pointer("/spec/resourceAttributes")
        .cloned()
        .unwrap_or(Value::Null);
    let text = |field: &str| {
        attrs
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (verb, group, resource, subresource, namespace, name) = (
        text("verb"),
        text("group"),
        text("resource"),
        text("subresource"),
        text("namespace"),
        text("name"),
    );
    let request = RequestAttributes {
        verb: &verb,
        group: &group,
        resource: &resource,
        subresource: (!subresource.is_empty()).then_some(subresource.as_str()),
        namespace: (!namespace.is_empty()).then_some(namespace.as_str()),
        name: &name,
    };
    let allowed = call.app.rbac.allows(&request);
    review["status"] = if allowed {
        json!({"allowed": true, "reason": "allowed by the test cluster"})
    } else {
        json!({"allowed": false})
    };
    review
}

fn update(call: &Call<'_>) -> Result<Response, ApiError> {
    let resource = call.resource();
    let mut obj = call.decode_body()?;
    check_identity(call, &mut obj, true)?;
    let admission = Admission::load(call, Operation::Update);
    let updated = call.app.store.modify(
        &call.key(),
        call.namespace(),
        call.name(),
        call.query.dry_run,
        |current| {
            let mut next = obj;
            if resource.has_status() {
                keep_status(current, &mut next);
            }
            admission.admit(resource, &mut next, Some(current))?;
            Ok(next)
        },
    );
    let updated = updated.map_err(|e| {
        if e.code == 404 {
            not_found(resource, call.namespace(), call.name())
        } else {
            e
        }
    })?;
    Ok(response::json(200, &updated))
}

fn keep_status(current: &Value, next: &mut Value) {
    if let Some(map) = next.as_object_mut() {
        match current.get("status") {
            Some(status) => map.insert("status".into(), status.clone()),
            None => map.remove("status"),
        };
    }
}

/// `next` = `current` with the status of `changed` (and its resourceVersion precondition).
fn status_only(current: &Value, changed: &Value) -> Value {
    let mut next = current.clone();
    if let Some(map) = next.as_object_mut() {
        match changed.get("status") {
            Some(status) => map.insert("status".into(), status.clone()),
            None => map.remove("status"),
        };
    }
    if let Some(rv) = changed.pointer("/metadata/resourceVersion") {
        crate::store::metadata_mut(&mut next).insert("resourceVersion".into(), rv.clone());
    }
    next
}

fn update_status(call: &Call<'_>) -> Result<Response, ApiError> {
    let resource = call.resource();
    let mut obj = call.decode_body()?;
    check_identity(call, &mut obj, true)?;
    let updated = call.app.store.modify(
        &call.key(),
        call.namespace(),
        call.name(),
        call.query.dry_run,
        |current| {
            let mut next = status_only(current, &obj);
            validation::canonicalize_quantities(resource, &mut next);
            Ok(next)
        },
    )?;
    Ok(response::json(200, &updated))
}

/// The patch formats of `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PatchType {
    Json,
    Merge,
    Strategic,
    /// Server-side apply, approximated by a JSON merge patch of the applied configuration
    /// (no field ownership or conflict detection).
    Apply,
}

fn patch_type(content_type: &str, resource: &ResourceType) -> Result<PatchType, ApiError> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    let mut accepted = vec![
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/apply-patch+yaml",
    ];
    if resource.built_in {
        accepted.push("application/strategic-merge-patch+json");
    }
    match media {
        "application/json-patch+json" => Ok(PatchType::Json),
        "application/merge-patch+json" => Ok(PatchType::Merge),
        "application/strategic-merge-patch+json" if resource.built_in => Ok(PatchType::Strategic),
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => Ok(PatchType::Apply),
        _ => Err(ApiError::unsupported_media_type(&accepted)),
    }
}

fn apply_patch(
    kind: PatchType,
    resource: &ResourceType,
    current: &Value,
    body: &Value,
) -> Result<Value, ApiError> {
    match kind {
        PatchType::Merge | PatchType::Apply => {
            if !body.is_object() {
                return Err(ApiError::bad_request("the patch is not a JSON object"));
            }
            Ok(patch::merge(current, body))
        }
        // Like the real server, a failed operation loses its detail in a generic 422.
        PatchType::Json => patch::json_patch(current, body).map_err(|message| {
            if message.starts_with("invalid JSON patch") {
                ApiError::bad_request(message)
            } else {
                ApiError::new(
                    422,
                    "Invalid",
                    "the server rejected our request due to an error in our request",
                )
                .with_details(json!({}))
            }
        }),
        PatchType::Strategic => {
            patch::strategic(current, body, resource.kind).map_err(ApiError::bad_request)
        }
    }
}

fn patch(call: &Call<'_>) -> Result<Response, ApiError> {
    let resource = call.resource();
    let kind = patch_type(&call.content_type, resource)?;
    let body = call.decode_body()?;
    let status_subresource = call.target.subresource.as_deref() == Some("status");
    let admission = Admission::load(call, Operation::Update);
    let result = call.app.store.modify(
        &call.key(),
        call.namespace(),
        call.name(),
        call.query.dry_run,
        |current| {
            let patched = apply_patch(kind, resource, current, &body)?;
            let mut next = if status_subresource {
                status_only(current, &patched)
            } else {
                let mut next = patched;
                if resource.has_status() {
                    keep_status(current, &mut next);
                }
                next
            };
            for field in ["apiVersion", "kind"] {
                if next.get(field) != current.get(field) {
                    return Err(ApiError::bad_request(format!(
                        "{field} of the patched object may not change"
                    )));
                }
            }
            if str_at(&next, "namespace") != str_at(current, "namespace")
                || str_at(&next, "name") != str_at(current, "name")
            {
                return Err(ApiError::bad_request(
                    "metadata.name and metadata.namespace may not be changed by a patch",
                ));
            }
            let immutable_rules = (!status_subresource).then_some(current);
            admission.admit(resource, &mut next, immutable_rules)?;
            Ok(next)
        },
    );
    match result {
        Ok(patched) => Ok(response::json(200, &patched)),
        Err(err) if err.code == 404 && kind == PatchType::Apply && !status_subresource => {
            let mut obj = body;
            check_identity(call, &mut obj, true)?;
            require_namespace(call)?;
            Admission::load(call, Operation::Create).admit(resource, &mut obj, None)?;
            let created = call
                .app
                .store
                .create_with(&call.key(), obj, call.query.dry_run)?;
            Ok(response::json(201, &created))
        }
        Err(err) if err.code == 404 => Err(not_found(resource, call.namespace(), call.name())),
        Err(err) => Err(err),
    }
}

/// `DeleteOptions` from the body (if any) and the query string.
pub fn delete_options(call: &Call<'_>, body: Option<&Value>) -> DeleteOptions {
    let body = body.cloned().unwrap_or(Value::Null);
    let text = |pointer: &str| {
        body.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let body_dry_run = body
        .get("dryRun")
        .and_then(Value::as_array)
        .is_some_and(|values| values.iter().any(|v| v == "All"));
    let orphan = body.get("orphanDependents").and_then(Value::as_bool) == Some(true);
    DeleteOptions {
        grace_period_seconds: body
            .get("gracePeriodSeconds")
            .and_then(Value::as_i64)
            .or(call.query.grace_period_seconds),
        precondition_uid: text("/preconditions/uid"),
        precondition_resource_version: text("/preconditions/resourceVersion"),
        propagation_policy: text("/propagationPolicy")
            .or_else(|| call.query.propagation_policy.clone())
            .or_else(|| orphan.then(|| "Orphan".to_string())),
        dry_run: call.query.dry_run || body_dry_run,
    }
}

fn delete_body(call: &Call<'_>) -> Result<Option<Value>, ApiError> {
    if call.body.is_empty() {
        Ok(None)
    } else {
        call.decode_body().map(Some)
    }
}

/// Kinds whose DELETE answers with the object rather than a `Status` (`ReturnDeletedObject`).
fn returns_deleted_object(resource: &ResourceType) -> bool {
    matches!(
        resource.plural,
        "pods" | "serviceaccounts" | "services" | "namespaces"
    )
}

fn deletion_response(resource: &ResourceType, deletion: Deletion) -> Response {
    match deletion {
        Deletion::Terminating(obj) => response::json(200, &obj),
        Deletion::Removed(obj) if returns_deleted_object(resource) => response::json(200, &obj),
        Deletion::Removed(obj) => {
            let mut details = json!({"name": str_at(&obj, "name"), "kind": resource.plural, "uid": str_at(&obj, "uid")});
            if !resource.group.is_empty() {
                details["group"] = json!(resource.group);
            }
            response::json(
                200,
                &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
            )
        }
    }
}

fn delete(call: &Call<'_>) -> Result<Response, ApiError> {
    let resource = call.resource();
    let body = delete_body(call)?;
    let opts = delete_options(call, body.as_ref());
    let deletion = call
        .app
        .store
        .delete(&call.key(), call.namespace(), call.name(), &opts)
        .map_err(|e| {
            if e.code == 404 {
                not_found(resource, call.namespace(), call.name())
            } else {
                e
            }
        })?;
    Ok(deletion_response(resource, deletion))
}

fn delete_collection(call: &Call<'_>) -> Result<Response, ApiError> {
    let resource = call.resource();
    let body = delete_body(call)?;
    let opts = delete_options(call, body.as_ref());
    let (items, _) = select(call)?;
    let mut deleted = Vec::new();
    for item in items {
        let ns = item.pointer("/metadata/namespace").and_then(Value::as_str);
        match call
            .app
            .store
            .delete(&call.key(), ns, str_at(&item, "name"), &opts)
        {
            Ok(Deletion::Removed(obj) | Deletion::Terminating(obj)) => deleted.push(Arc::new(obj)),
            Err(err) if err.code == 404 => {}
            Err(err) => return Err(err),
        }
    }
    let meta = ListMeta {
        resource_version: call.app.store.resource_version(),
        continue_token: None,
        remaining: None,
    };
    Ok(response::list(
        resource.kind,
        &resource.api_version(),
        &meta,
        &deleted,
    ))
}
