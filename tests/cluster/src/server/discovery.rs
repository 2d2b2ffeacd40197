//! Discovery documents: `/version`, `/api`, `/apis`, group and group-version resource lists,
//! in the legacy format and in aggregated discovery (`apidiscovery.k8s.io/v2`), which
//! kubectl 1.32 asks for first.

use axum::extract::Request;
use axum::response::Response;
use http::{HeaderValue, header};
use serde_json::{Value, json};

use crate::resources::{self, ResourceType};

use super::response::{self, error_response};
use super::route::{DiscoveryTarget, not_found};

const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// The Kubernetes version the server claims to be.
pub const GIT_VERSION: &str = "v1.33.1";

/// Answers a discovery request.
pub fn handle(target: DiscoveryTarget, request: &Request) -> Response {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let aggregated = accept.contains("as=APIGroupDiscoveryList") && accept.contains("v=v2;");
    match target {
        DiscoveryTarget::Version => response::json(200, &version()),
        DiscoveryTarget::Health => response::text("ok".to_string()),
        DiscoveryTarget::CoreVersions if aggregated => aggregated_response(&aggregated_list(true)),
        DiscoveryTarget::Groups if aggregated => aggregated_response(&aggregated_list(false)),
        DiscoveryTarget::CoreVersions => {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("127.0.0.1");
            response::json(
                200,
                &json!({"kind": "APIVersions", "versions": ["v1"],
                        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]}),
            )
        }
        DiscoveryTarget::Groups => {
            let groups: Vec<Value> = resources::groups()
                .into_iter()
                .map(|(g, v)| group(g, &v))
                .collect();
            response::json(
                200,
                &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
            )
        }
        DiscoveryTarget::Group(name) => {
            match resources::groups().into_iter().find(|(g, _)| *g == name) {
                Some((g, versions)) => {
                    let mut body = group(g, &versions);
                    body["kind"] = json!("APIGroup");
                    body["apiVersion"] = json!("v1");
                    response::json(200, &body)
                }
                None => error_response(&not_found()),
            }
        }
        DiscoveryTarget::OpenApiIndex => response::json(200, &openapi_index()),
        DiscoveryTarget::OpenApi { group, version } => match openapi_document(&group, &version) {
            Some(doc) => response::json(200, &doc),
            None => error_response(&not_found()),
        },
        DiscoveryTarget::Resources { group, version } => {
            let list: Vec<&ResourceType> = resources::RESOURCES
                .iter()
                .filter(|r| r.group == group && r.version == version)
                .collect();
            if list.is_empty() {
                return error_response(&not_found());
            }
            let group_version = list[0].api_version();
            let mut entries = Vec::new();
            for r in list {
                entries.push(legacy_entry(r));
                entries.extend(r.subresources.iter().map(|s| {
                    let mut entry = json!({
                        "name": format!("{}/{}", r.plural, s.name),
                        "singularName": "",
                        "namespaced": r.namespaced,
                        "kind": s.kind,
                        "verbs": s.verbs,
                    });
                    if !s.group.is_empty() || !s.version.is_empty() {
                        entry["group"] = json!(s.group);
                        entry["version"] = json!(s.version);
                    }
                    entry
                }));
            }
            let mut body = json!({"kind": "APIResourceList", "groupVersion": group_version, "resources": entries});
            if !group.is_empty() {
                body["apiVersion"] = json!("v1");
            }
            response::json(200, &body)
        }
    }
}

fn openapi_key(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `/openapi/v3`: where each group version's document is.
fn openapi_index() -> Value {
    let mut paths = serde_json::Map::new();
    let mut versions: Vec<(&str, &str)> = resources::RESOURCES
        .iter()
        .map(|r| (r.group, r.version))
        .collect();
    versions.dedup();
    for (group, version) in versions {
        let key = openapi_key(group, version);
        paths.insert(
            key.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{key}?hash=0")}),
        );
    }
    json!({"paths": paths})
}

/// A minimal OpenAPI v3 document of a group version: the PATCH operation of every resource,
/// tagged with its kind and accepting `fieldValidation`, which is what kubectl checks before
/// relying on server-side field validation. No schemas: kubectl then falls back to its
/// compiled-in types for strategic merge patches.
fn openapi_document(group: &str, version: &str) -> Option<Value> {
    let mut paths = serde_json::Map::new();
    for r in resources::RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        if !r.verbs.allows("patch") {
            continue;
        }
        let prefix = format!("/{}", openapi_key(group, version));
        let path = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
        } else {
            format!("{prefix}/{}/{{name}}", r.plural)
        };
        paths.insert(
            path,
            json!({"patch": {
                "operationId": format!("patch{}", r.kind),
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": r.kind},
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
                    {"name": "force", "in": "query", "schema": {"type": "boolean", "uniqueItems": true}}
                ],
                "responses": {"200": {"description": "OK"}}
            }}),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": GIT_VERSION},
        "paths": paths,
        "components": {"schemas": {}}
    }))
}

fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": GIT_VERSION,
        "gitCommit": "8adc0f041b8e7ad1d30e29cc59c6ae7a15e19828",
        "gitTreeState": "clean",
        "buildDate": "2025-05-15T08:19:08Z",
        "goVersion": "go1.24.2",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

fn group(name: &str, versions: &[&str]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({"name": name, "versions": versions, "preferredVersion": versions[0]})
}

fn legacy_entry(r: &ResourceType) -> Value {
    let mut entry = json!({
        "name": r.plural,
        "singularName": r.singular,
        "namespaced": r.namespaced,
        "kind": r.kind,
        "verbs": r.verbs.names(),
    });
    if !r.short_names.is_empty() {
        entry["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        entry["categories"] = json!(r.categories);
    }
    entry
}

fn aggregated_resource(r: &ResourceType) -> Value {
    let mut entry = json!({
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs.names(),
    });
    if !r.short_names.is_empty() {
        entry["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        entry["categories"] = json!(r.categories);
    }
    if !r.subresources.is_empty() {
        let subs: Vec<Value> = r
            .subresources
            .iter()
            .map(|s| {
                let (group, version) =
                    if s.group.is_empty() && s.version.is_empty() { (r.group, r.version) } else { (s.group, s.version) };
                json!({"subresource": s.name, "responseKind": {"group": group, "version": version, "kind": s.kind},
                       "verbs": s.verbs})
            })
            .collect();
        entry["subresources"] = Value::Array(subs);
    }
    entry
}

/// The aggregated discovery list of the core group (`core`) or of every named group.
fn aggregated_list(core: bool) -> Value {
    let names: Vec<(&str, Vec<&str>)> = if core {
        vec![("", vec!["v1"])]
    } else {
        resources::groups()
    };
    let items: Vec<Value> = names
        .into_iter()
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .into_iter()
                .map(|version| {
                    let list: Vec<Value> = resources::RESOURCES
                        .iter()
                        .filter(|r| r.group == group && r.version == version)
                        .map(aggregated_resource)
                        .collect();
                    json!({"version": version, "resources": list, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

fn aggregated_response(body: &Value) -> Response {
    let mut response = response::json(200, body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(AGGREGATED));
    response
}
