//! The three patch formats a Kubernetes API server accepts, as pure functions over JSON.
//!
//! * [`merge`]: JSON merge patch (RFC 7386, `application/merge-patch+json`).
//! * [`json_patch`]: JSON patch (RFC 6902, `application/json-patch+json`), `test` included.
//! * [`strategic`]: strategic merge patch (`application/strategic-merge-patch+json`), a port of
//!   `k8s.io/apimachinery/pkg/util/strategicpatch` (`mergeMap` with the server's options
//!   `MergeParallelList` and `IgnoreUnmatchedNulls`). The `patchStrategy` / `patchMergeKey`
//!   tags of the built-in types live in the [`schema`] table below, copied from `k8s.io/api`.
//!
//! The real server rejects strategic merge patches on custom resources (415); use
//! [`supports_strategic`] to decide before calling [`strategic`].

use serde_json::{Map, Value};

const DIRECTIVE: &str = "$patch";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";
const RETAIN_KEYS: &str = "$retainKeys";

/// Applies a JSON merge patch (RFC 7386): objects merge, `null` deletes, anything else replaces.
pub fn merge(target: &Value, patch: &Value) -> Value {
    let mut doc = target.clone();
    json_patch::merge(&mut doc, patch);
    doc
}

/// Applies a JSON patch (RFC 6902); a failed `test` or a missing path is an error.
pub fn json_patch(target: &Value, patch: &Value) -> Result<Value, String> {
    let operations: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|err| format!("invalid JSON patch: {err}"))?;
    let mut doc = target.clone();
    json_patch::patch(&mut doc, &operations).map_err(|err| err.to_string())?;
    Ok(doc)
}

/// Whether the server accepts a strategic merge patch for objects of this `apiVersion`:
/// built-in API groups only; custom resources (Gateway API, metrics, ...) answer 415.
pub fn supports_strategic(api_version: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
    const BUILT_IN: &[&str] = &[
        "",
        "apps",
        "batch",
        "policy",
        "autoscaling",
        "networking.k8s.io",
        "discovery.k8s.io",
        "rbac.authorization.k8s.io",
        "admissionregistration.k8s.io",
        "storage.k8s.io",
        "coordination.k8s.io",
        "events.k8s.io",
        "scheduling.k8s.io",
        "node.k8s.io",
        "certificates.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "flowcontrol.apiserver.k8s.io",
    ];
    BUILT_IN.contains(&group)
}

/// Applies a strategic merge patch to an object of the given `kind` (e.g. `"Deployment"`).
///
/// Lists are merged by their merge key where `k8s.io/api` tags them `patchStrategy:"merge"`
/// (containers by name, container ports by containerPort, service ports by port, conditions by
/// type, ownerReferences by uid, finalizers as a set, ...) and replaced otherwise (tolerations,
/// taints, args, ...). Directives: `$patch: replace|delete` (in maps and list elements),
/// `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`, `$retainKeys`; `null` deletes.
pub fn strategic(target: &Value, patch: &Value, kind: &str) -> Result<Value, String> {
    let Value::Object(original) = target.clone() else {
        return Err("the object to patch is not a JSON object".into());
    };
    let Value::Object(patch) = patch.clone() else {
        return Err("a strategic merge patch must be a JSON object".into());
    };
    let merged = merge_map(original, patch, schema::Ty::root(kind))?;
    let mut merged = Value::Object(merged);
    strip_directives_and_nulls(&mut merged);
    Ok(merged)
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    ty: schema::Ty,
) -> Result<Map<String, Value>, String> {
    if let Some(directive) = patch.remove(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => Ok(patch),
            Some("delete") => Ok(Map::new()),
            _ => Err(bad_patch_type(&directive)),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    apply_set_element_order(&mut original, &mut patch, ty)?;

    // Plain keys first, then the parallel deletion lists (Go visits them in random order).
    let (deletions, plain): (Vec<_>, Vec<_>) = patch
        .into_iter()
        .partition(|(key, _)| key.starts_with(DELETE_FROM_PRIMITIVE_LIST));
    for (key, patch_value) in plain.into_iter().chain(deletions) {
        let (key, is_delete_list) = match key.strip_prefix(DELETE_FROM_PRIMITIVE_LIST) {
            Some(rest) => match rest.strip_prefix('/') {
                Some(field) => (field.to_string(), true),
                None => return Err("invalid patch format for $deleteFromPrimitiveList".into()),
            },
            None => (key, false),
        };
        if patch_value.is_null() {
            original.remove(&key);
            continue;
        }
        let Some(original_value) = original.remove(&key) else {
            if !is_delete_list && let Some(value) = remove_directives(discard_nulls(patch_value)) {
                original.insert(key, value);
            }
            continue;
        };
        if json_type(&original_value) != json_type(&patch_value) {
            if is_delete_list {
                original.insert(key, original_value);
            } else if let Some(value) = remove_directives(discard_nulls(patch_value)) {
                original.insert(key, value);
            }
            continue;
        }
        let (child, strategy) = ty.field(&key);
        let merged = match (original_value, patch_value) {
            (Value::Object(original_map), Value::Object(patch_map)) => {
                if strategy == schema::Strategy::Replace {
                    Value::Object(patch_map)
                } else {
                    Value::Object(merge_map(original_map, patch_map, child)?)
                }
            }
            (Value::Array(original_list), Value::Array(patch_list)) => match strategy {
                schema::Strategy::Merge(merge_key) => Value::Array(merge_list(
                    original_list,
                    patch_list,
                    child,
                    merge_key,
                    is_delete_list,
                )?),
                _ if is_delete_list => {
                    Value::Array(merge_list(original_list, patch_list, child, None, true)?)
                }
                _ => Value::Array(patch_list),
            },
            (_, scalar) => scalar,
        };
        original.insert(key, merged);
    }
    Ok(original)
}

/// `$retainKeys: [...]`: keys of the original missing from the list are cleared.
fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), String> {
    let Some(retain) = patch.remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(retain) = retain else {
        return Err("invalid patch format for $retainKeys".into());
    };
    let keeps = |key: &str| retain.iter().any(|kept| kept.as_str() == Some(key));
    for (key, value) in patch.iter() {
        let directive =
            key.starts_with(DELETE_FROM_PRIMITIVE_LIST) || key.starts_with(SET_ELEMENT_ORDER);
        if !value.is_null() && !directive && !keeps(key) {
            return Err(format!(
                "invalid patch format for $retainKeys: {key} is not in the retainKeys list"
            ));
        }
    }
    original.retain(|key, _| keeps(key));
    Ok(())
}

/// `$setElementOrder/<field>`: merges the list and orders it as the directive says
/// (precedence: the directive, then the patch list, then the live list).
fn apply_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    ty: schema::Ty,
) -> Result<(), String> {
    let directives: Vec<String> = patch
        .keys()
        .filter(|key| key.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for directive in directives {
        let order = patch.remove(&directive).unwrap_or(Value::Null);
        let Value::Array(order) = order else {
            return Err("invalid patch format for $setElementOrder list".into());
        };
        let Some(field) = directive
            .strip_prefix(SET_ELEMENT_ORDER)
            .and_then(|rest| rest.strip_prefix('/'))
        else {
            return Err("invalid patch format for $setElementOrder list".into());
        };
        let original_list = match original.get(field) {
            Some(Value::Array(list)) => Some(list.clone()),
            Some(other) => return Err(bad_arg_type("list", other)),
            None => None,
        };
        let patch_list = match patch.remove(field) {
            Some(Value::Array(list)) => Some(list),
            Some(other) => return Err(bad_arg_type("list", &other)),
            None => None,
        };
        let (child, strategy) = ty.field(field);
        let merge_key = match strategy {
            schema::Strategy::Merge(key) => key,
            _ => None,
        };
        if let Some(patch_list) = &patch_list {
            validate_set_element_order(patch_list, &order, merge_key)?;
        }
        let merged = match (original_list.clone(), patch_list) {
            (Some(list), None) => list,
            (None, Some(list)) => match remove_directives(Value::Array(list)) {
                Some(Value::Array(list)) => list,
                _ => Vec::new(),
            },
            (Some(original_list), Some(patch_list)) => match strategy {
                schema::Strategy::Merge(key) => {
                    merge_list(original_list, patch_list, child, key, false)?
                }
                _ => patch_list,
            },
            (None, None) => continue,
        };
        let (in_order, server_only) = partition_by_presence(merged, &order, merge_key)?;
        let ordered = normalize_element_order(
            in_order,
            server_only,
            &order,
            original_list.as_deref().unwrap_or(&[]),
            merge_key,
        )?;
        original.insert(field.to_string(), Value::Array(ordered));
    }
    Ok(())
}

/// The relative order of the patch list's items must agree with the `$setElementOrder` list.
fn validate_set_element_order(
    patch_list: &[Value],
    order: &[Value],
    merge_key: Option<&str>,
) -> Result<(), String> {
    let kept: Vec<&Value> = patch_list
        .iter()
        .filter(|item| merge_key.is_none() || directive_of(item) != Some("delete"))
        .collect();
    let (mut patch_index, mut order_index) = (0, 0);
    while patch_index < kept.len() && order_index < order.len() {
        if directive_of(kept[patch_index]).is_some() {
            patch_index += 1;
            continue;
        }
        if key_value(kept[patch_index], merge_key)? == key_value(&order[order_index], merge_key)? {
            patch_index += 1;
        }
        order_index += 1;
    }
    if patch_index < kept.len() {
        return Err("the order in the patch list does not match the $setElementOrder list".into());
    }
    Ok(())
}

fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    ty: schema::Ty,
    merge_key: Option<&'static str>,
    is_delete_list: bool,
) -> Result<Vec<Value>, String> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let elements_are_maps = element_kind(&original, &patch)? == JsonType::Object;
    if !elements_are_maps {
        if is_delete_list {
            return Ok(original
                .into_iter()
                .filter(|item| !patch.contains(item))
                .collect());
        }
        let mut merged: Vec<Value> = Vec::with_capacity(original.len() + patch.len());
        for item in original.iter().chain(patch.iter()) {
            if !merged.contains(item) {
                merged.push(item.clone());
            }
        }
        let (in_patch, server_only) = partition_by_presence(merged, &patch, None)?;
        return normalize_element_order(in_patch, server_only, &patch, &original, None);
    }
    let Some(key) = merge_key else {
        return Err(format!(
            "cannot merge lists without merge key for {}",
            ty.name()
        ));
    };
    let (original, patch) = apply_list_directives(original, patch, key)?;
    let mut merged = original.clone();
    for item in &patch {
        let Value::Object(item_map) = item else {
            return Err(bad_arg_type("map", item));
        };
        let Some(wanted) = item_map.get(key) else {
            return Err(no_merge_key(item, key));
        };
        let position = merged
            .iter()
            .position(|existing| existing.get(key) == Some(wanted));
        match position {
            Some(index) => {
                let Value::Object(existing) = std::mem::take(&mut merged[index]) else {
                    return Err(bad_arg_type("map", &merged[index]));
                };
                merged[index] = Value::Object(merge_map(existing, item_map.clone(), ty)?);
            }
            None => {
                let mut added = item.clone();
                strip_directives_and_nulls(&mut added);
                merged.push(added);
            }
        }
    }
    let (in_patch, server_only) = partition_by_presence(merged, &patch, Some(key))?;
    normalize_element_order(in_patch, server_only, &patch, &original, Some(key))
}

/// Handles list elements carrying `$patch`: `delete` removes the matching items, `replace`
/// makes the rest of the patch list the whole list. Returns the new original and the plain
/// patch items.
fn apply_list_directives(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), String> {
    let mut plain = Vec::with_capacity(patch.len());
    let mut replace = false;
    for item in patch {
        match directive_of(&item) {
            None => plain.push(item),
            Some("delete") => {
                let Some(wanted) = item.get(key) else {
                    return Err(no_merge_key(&item, key));
                };
                original.retain(|existing| existing.get(key) != Some(wanted));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                return Err("merging lists cannot yet be specified in the patch".into());
            }
            Some(_) => return Err(bad_patch_type(item.get(DIRECTIVE).unwrap_or(&Value::Null))),
        }
    }
    if replace {
        return Ok((plain, Vec::new()));
    }
    Ok((original, plain))
}

/// Splits `items` into those present in `by` (by merge key, or by value for primitives) and
/// the rest, keeping their order.
fn partition_by_presence(
    items: Vec<Value>,
    by: &[Value],
    merge_key: Option<&str>,
) -> Result<(Vec<Value>, Vec<Value>), String> {
    let mut present = Vec::new();
    let mut absent = Vec::new();
    for item in items {
        let wanted = key_value(&item, merge_key)?;
        let found = by
            .iter()
            .any(|other| identity(other, merge_key).is_some_and(|value| value == wanted));
        if found {
            present.push(item);
        } else {
            absent.push(item);
        }
    }
    Ok((present, absent))
}

/// `normalizeElementOrder`: sorts the patch items by the patch order and the server-only
/// items by the live order, then interleaves them keeping the live order where both are known.
fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: Option<&str>,
) -> Result<Vec<Value>, String> {
    let patch_items = sort_by_order(patch_items, patch_order, merge_key)?;
    let server_only = sort_by_order(server_only, server_order, merge_key)?;
    let position = |item: &Value| {
        let wanted = identity(item, merge_key);
        server_order
            .iter()
            .position(|other| identity(other, merge_key) == wanted)
    };
    let mut result = Vec::with_capacity(patch_items.len() + server_only.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = patch_items.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                matches!((position(l), position(r)), (Some(li), Some(ri)) if li < ri)
            }
        };
        let next = if take_left { left.next() } else { right.next() };
        result.extend(next);
    }
    Ok(result)
}

fn sort_by_order(
    items: Vec<Value>,
    order: &[Value],
    merge_key: Option<&str>,
) -> Result<Vec<Value>, String> {
    let (mut keep, deleted): (Vec<Value>, Vec<Value>) = match merge_key {
        Some(_) => items
            .into_iter()
            .partition(|item| directive_of(item) != Some("delete")),
        None => (items, Vec::new()),
    };
    for item in keep.iter().chain(order.iter()) {
        key_value(item, merge_key)?;
    }
    let position = |item: &Value| {
        let wanted = identity(item, merge_key);
        order
            .iter()
            .position(|other| identity(other, merge_key) == wanted)
            .unwrap_or(usize::MAX)
    };
    keep.sort_by_key(position);
    keep.extend(deleted);
    Ok(keep)
}

/// The value identifying a list item: its merge key's value, or the item itself.
fn identity<'a>(item: &'a Value, merge_key: Option<&str>) -> Option<&'a Value> {
    match merge_key {
        Some(key) => item.get(key),
        None => Some(item),
    }
}

fn key_value<'a>(item: &'a Value, merge_key: Option<&str>) -> Result<&'a Value, String> {
    match merge_key {
        Some(key) => item.get(key).ok_or_else(|| no_merge_key(item, key)),
        None => Ok(item),
    }
}

fn directive_of(item: &Value) -> Option<&str> {
    item.get(DIRECTIVE).and_then(Value::as_str)
}

/// `removeDirectives`: drops maps carrying `$patch` (and list items that are such maps).
fn remove_directives(value: Value) -> Option<Value> {
    match value {
        Value::Object(map) => {
            if map.contains_key(DIRECTIVE) {
                return None;
            }
            let kept = map
                .into_iter()
                .filter_map(|(key, value)| remove_directives(value).map(|value| (key, value)))
                .collect();
            Some(Value::Object(kept))
        }
        Value::Array(items) => Some(Value::Array(
            items.into_iter().filter_map(remove_directives).collect(),
        )),
        other => Some(other),
    }
}

/// `discardNullValuesFromPatch`: a null in a value with nothing to delete means nothing.
fn discard_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key, discard_nulls(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(discard_nulls).collect()),
        other => other,
    }
}

/// What decoding the result into the typed object does on the real server: directive keys
/// (`$...`, never valid field names) and null fields disappear.
fn strip_directives_and_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, value| !key.starts_with('$') && !value.is_null());
            map.values_mut().for_each(strip_directives_and_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_directives_and_nulls),
        _ => {}
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonType {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

fn json_type(value: &Value) -> JsonType {
    match value {
        Value::Null => JsonType::Null,
        Value::Bool(_) => JsonType::Bool,
        Value::Number(_) => JsonType::Number,
        Value::String(_) => JsonType::String,
        Value::Array(_) => JsonType::Array,
        Value::Object(_) => JsonType::Object,
    }
}

/// `sliceElementType`: every element of both lists must share one type, and not be a list.
fn element_kind(original: &[Value], patch: &[Value]) -> Result<JsonType, String> {
    let mut kinds = original.iter().chain(patch.iter()).map(json_type);
    let Some(first) = kinds.next() else {
        return Err("no elements in any of the given slices".into());
    };
    if first == JsonType::Array {
        return Err("lists of lists are not supported".into());
    }
    if kinds.any(|kind| kind != first) {
        return Err("list element types are not identical".into());
    }
    Ok(first)
}

fn bad_patch_type(directive: &Value) -> String {
    format!("unknown patch type: {directive} in map")
}

fn bad_arg_type(expected: &str, got: &Value) -> String {
    format!("expected a {expected}, but got {got}")
}

fn no_merge_key(item: &Value, key: &str) -> String {
    format!("map: {item} does not contain declared merge key: {key}")
}

/// The `patchStrategy` / `patchMergeKey` tags of the built-in types (k8s.io/api, apimachinery
/// ObjectMeta). Fields absent from the table merge maps and replace lists, as untagged fields do.
mod schema {
    /// How a field merges.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Strategy {
        /// Untagged: maps merge recursively, lists are replaced.
        Default,
        /// `patchStrategy:"replace"`: the patch value replaces the field.
        Replace,
        /// `patchStrategy:"merge"`: lists merge by this key (None: a set of primitives).
        Merge(Option<&'static str>),
    }

    /// The Go type at a point of the object, as far as patching needs to know it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Ty {
        Unknown,
        Other,
        Pod,
        Workload,
        CronJob,
        PodTemplate,
        Service,
        Node,
        WithConditions,
        PodDisruptionBudget,
        ServiceAccount,
        ObjectMeta,
        PodTemplateSpec,
        PodSpec,
        Container,
        PodStatus,
        WorkloadSpec,
        CronJobSpec,
        JobTemplateSpec,
        ServiceSpec,
        NodeSpec,
        NodeStatus,
        ConditionsStatus,
        PdbSpec,
        Volume,
    }

    impl Ty {
        /// The type of a whole object of this kind.
        pub fn root(kind: &str) -> Ty {
            match kind {
                "Pod" => Ty::Pod,
                "Deployment"
                | "ReplicaSet"
                | "StatefulSet"
                | "DaemonSet"
                | "ReplicationController"
                | "Job" => Ty::Workload,
                "CronJob" => Ty::CronJob,
                "PodTemplate" => Ty::PodTemplate,
                "Service" => Ty::Service,
                "Node" => Ty::Node,
                "Namespace" | "PersistentVolumeClaim" | "ComponentStatus" => Ty::WithConditions,
                "PodDisruptionBudget" => Ty::PodDisruptionBudget,
                "ServiceAccount" => Ty::ServiceAccount,
                _ => Ty::Other,
            }
        }

        /// The Go name, for error messages.
        pub fn name(self) -> String {
            format!("{self:?}")
        }

        /// The type and merge strategy of one field of this type.
        pub fn field(self, field: &str) -> (Ty, Strategy) {
            use Strategy::{Default, Merge, Replace};
            let by_name = Merge(Some("name"));
            let by_type = Merge(Some("type"));
            match (self, field) {
                (Ty::Unknown, _) => (Ty::Unknown, Default),
                (_, "metadata") if self.is_object() || self.is_template() => {
                    (Ty::ObjectMeta, Default)
                }
                (Ty::ObjectMeta, "finalizers") => (Ty::Unknown, Merge(None)),
                (Ty::ObjectMeta, "ownerReferences") => (Ty::Unknown, Merge(Some("uid"))),

                (Ty::Pod, "spec") => (Ty::PodSpec, Default),
                (Ty::Pod, "status") => (Ty::PodStatus, Default),
                (Ty::Workload, "spec") => (Ty::WorkloadSpec, Default),
                (Ty::CronJob, "spec") => (Ty::CronJobSpec, Default),
                (Ty::Workload | Ty::CronJob | Ty::Service | Ty::WithConditions, "status") => {
                    (Ty::ConditionsStatus, Default)
                }
                (Ty::PodTemplate, "template") => (Ty::PodTemplateSpec, Default),
                (Ty::Service, "spec") => (Ty::ServiceSpec, Default),
                (Ty::Node, "spec") => (Ty::NodeSpec, Default),
                (Ty::Node, "status") => (Ty::NodeStatus, Default),
                (Ty::PodDisruptionBudget, "spec") => (Ty::PdbSpec, Default),
                (Ty::PodDisruptionBudget, "status") => (Ty::ConditionsStatus, Default),
                (Ty::ServiceAccount, "secrets" | "imagePullSecrets") => (Ty::Unknown, by_name),

                (Ty::WorkloadSpec | Ty::JobTemplateSpec, "template") => {
                    (Ty::PodTemplateSpec, Default)
                }
                (Ty::CronJobSpec, "jobTemplate") => (Ty::JobTemplateSpec, Default),
                (Ty::JobTemplateSpec, "spec") => (Ty::WorkloadSpec, Default),
                (Ty::PodTemplateSpec, "spec") => (Ty::PodSpec, Default),

                (Ty::PodSpec, "containers" | "initContainers" | "ephemeralContainers") => {
                    (Ty::Container, by_name)
                }
                (Ty::PodSpec, "volumes") => (Ty::Volume, by_name),
                (Ty::PodSpec, "imagePullSecrets" | "schedulingGates" | "resourceClaims") => {
                    (Ty::Unknown, by_name)
                }
                (Ty::PodSpec, "hostAliases") => (Ty::Unknown, Merge(Some("ip"))),
                (Ty::PodSpec, "topologySpreadConstraints") => {
                    (Ty::Unknown, Merge(Some("topologyKey")))
                }
                (Ty::Container, "ports") => (Ty::Unknown, Merge(Some("containerPort"))),
                (Ty::Container, "env") => (Ty::Unknown, by_name),
                (Ty::Container, "volumeMounts") => (Ty::Unknown, Merge(Some("mountPath"))),
                (Ty::Container, "volumeDevices") => (Ty::Unknown, Merge(Some("devicePath"))),
                (Ty::PodStatus, "conditions") => (Ty::Unknown, by_type),
                (Ty::PodStatus, "hostIPs" | "podIPs") => (Ty::Unknown, Merge(Some("ip"))),
                (Ty::PodStatus, "resourceClaimStatuses") => (Ty::Unknown, by_name),

                (Ty::ServiceSpec, "ports") => (Ty::Unknown, Merge(Some("port"))),
                (Ty::NodeSpec, "podCIDRs") => (Ty::Unknown, Merge(None)),
                (Ty::NodeStatus, "conditions" | "addresses") => (Ty::Unknown, by_type),
                (Ty::ConditionsStatus, "conditions") => (Ty::Unknown, by_type),
                (Ty::PdbSpec, "selector") => (Ty::Unknown, Replace),
                _ => (Ty::Unknown, Default),
            }
        }

        fn is_object(self) -> bool {
            matches!(
                self,
                Ty::Other
                    | Ty::Pod
                    | Ty::Workload
                    | Ty::CronJob
                    | Ty::PodTemplate
                    | Ty::Service
                    | Ty::Node
                    | Ty::WithConditions
                    | Ty::PodDisruptionBudget
                    | Ty::ServiceAccount
            )
        }

        fn is_template(self) -> bool {
            matches!(self, Ty::PodTemplateSpec | Ty::JobTemplateSpec)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "gateway-proxy", "namespace": "gateway",
                "finalizers": ["a", "b"],
                "ownerReferences": [{"uid": "u1", "name": "one", "kind": "X", "apiVersion": "v1"}]},
            "spec": {
                "replicas": 3,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "gateway-proxy"}},
                    "spec": {
                        "containers": [
                            {"name": "proxy", "image": "proxy:1",
                             "args": ["--a", "--b"],
                             "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                             "ports": [{"containerPort": 8080, "name": "http"}, {"containerPort": 9090, "name": "metrics"}],
                             "resources": {"requests": {"memory": "256Mi"}, "limits": {"memory": "512Mi"}},
                             "volumeMounts": [{"mountPath": "/etc/conf", "name": "conf"}]},
                            {"name": "sidecar", "image": "sidecar:1"}
                        ],
                        "tolerations": [{"key": "a", "operator": "Exists"}],
                        "volumes": [{"name": "conf", "configMap": {"name": "conf"}}]
                    }
                }
            }
        })
    }

    fn container<'a>(obj: &'a Value, name: &str) -> &'a Value {
        obj["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let target = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        let patch = json!({"a": "z", "c": {"f": null}, "l": [3]});
        assert_eq!(
            merge(&target, &patch),
            json!({"a": "z", "c": {"d": "e"}, "l": [3]})
        );
        assert_eq!(merge(&json!({"a": 1}), &json!(["x"])), json!(["x"]));
    }

    #[test]
    fn json_patch_applies_operations_and_fails_a_test() {
        let target = json!({"spec": {"replicas": 3}});
        let patch = json!([
            {"op": "test", "path": "/spec/replicas", "value": 3},
            {"op": "replace", "path": "/spec/replicas", "value": 5},
            {"op": "add", "path": "/spec/paused", "value": true}
        ]);
        assert_eq!(
            json_patch(&target, &patch).unwrap(),
            json!({"spec": {"replicas": 5, "paused": true}})
        );
        let failing = json!([{"op": "test", "path": "/spec/replicas", "value": 4}]);
        assert!(json_patch(&target, &failing).is_err());
        let missing = json!([{"op": "remove", "path": "/spec/nothing"}]);
        assert!(json_patch(&target, &missing).is_err());
        assert!(json_patch(&target, &json!({"op": "add"})).is_err());
    }

    #[test]
    fn kubectl_rollout_undo_json_patch_replaces_template_and_annotations() {
        let patch = json!([
            {"op": "replace", "path": "/spec/template", "value": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": []}}},
            {"op": "replace", "path": "/metadata/annotations", "value": {"deployment.kubernetes.io/revision": "1"}}
        ]);
        let mut target = deployment();
        target["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "2"});
        let result = json_patch(&target, &patch).unwrap();
        assert_eq!(result["spec"]["template"]["spec"]["containers"], json!([]));
        assert_eq!(
            result["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
            "1"
        );
    }

    #[test]
    fn containers_merge_by_name_and_keep_unpatched_fields() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "proxy", "resources": {"limits": {"memory": "1012Mi"}}}
        ]}}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        let proxy = container(&result, "proxy");
        assert_eq!(proxy["image"], "proxy:1");
        assert_eq!(proxy["resources"]["limits"]["memory"], "1012Mi");
        assert_eq!(proxy["resources"]["requests"]["memory"], "256Mi");
        assert_eq!(container(&result, "sidecar")["image"], "sidecar:1");
        assert_eq!(
            result["spec"]["template"]["spec"]["containers"][0]["name"],
            "proxy"
        );
    }

    #[test]
    fn a_new_container_goes_first_as_on_the_real_server() {
        // mergeSortedSlice takes a patch item first when it is not in the live list.
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "debug", "image": "busybox", "command": null}
        ]}}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        let names: Vec<_> = result["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["debug", "proxy", "sidecar"]);
        assert!(container(&result, "debug").get("command").is_none());
    }

    #[test]
    fn env_merges_by_name_ports_by_container_port_mounts_by_path() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{
            "name": "proxy",
            "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
            "ports": [{"containerPort": 9090, "name": "prom"}],
            "volumeMounts": [{"mountPath": "/etc/conf", "readOnly": true}],
            "args": ["--c"]
        }]}}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        let proxy = container(&result, "proxy");
        assert_eq!(
            proxy["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}])
        );
        assert_eq!(
            proxy["ports"],
            json!([{"containerPort": 8080, "name": "http"}, {"containerPort": 9090, "name": "prom"}])
        );
        assert_eq!(
            proxy["volumeMounts"],
            json!([{"mountPath": "/etc/conf", "name": "conf", "readOnly": true}])
        );
        assert_eq!(
            proxy["args"],
            json!(["--c"]),
            "args has no merge strategy: replaced"
        );
    }

    #[test]
    fn tolerations_and_node_taints_are_replaced() {
        let patch = json!({"spec": {"template": {"spec": {"tolerations": [
            {"key": "node-role.kubernetes.io/gateway", "operator": "Exists", "effect": "NoSchedule"}
        ]}}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert_eq!(
            result["spec"]["template"]["spec"]["tolerations"],
            json!([{"key": "node-role.kubernetes.io/gateway", "operator": "Exists", "effect": "NoSchedule"}])
        );
        let node =
            json!({"kind": "Node", "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]}});
        let patch = json!({"spec": {"taints": [{"key": "b", "effect": "NoExecute"}]}});
        let result = strategic(&node, &patch, "Node").unwrap();
        assert_eq!(
            result["spec"]["taints"],
            json!([{"key": "b", "effect": "NoExecute"}])
        );
    }

    #[test]
    fn service_ports_merge_by_port() {
        let svc = json!({"kind": "Service", "spec": {"ports": [
            {"port": 80, "targetPort": 8080, "name": "http"},
            {"port": 443, "targetPort": 8443, "name": "https"}
        ]}});
        let patch = json!({"spec": {"ports": [{"port": 443, "targetPort": "https"}]}});
        let result = strategic(&svc, &patch, "Service").unwrap();
        assert_eq!(
            result["spec"]["ports"],
            json!([{"port": 80, "targetPort": 8080, "name": "http"}, {"port": 443, "targetPort": "https", "name": "https"}])
        );
    }

    #[test]
    fn finalizers_are_a_set_and_owner_references_merge_by_uid() {
        let patch = json!({"metadata": {
            "finalizers": ["b", "c"],
            "ownerReferences": [{"uid": "u1", "name": "renamed"}, {"uid": "u2", "name": "two"}]
        }});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert_eq!(result["metadata"]["finalizers"], json!(["a", "b", "c"]));
        assert_eq!(result["metadata"]["ownerReferences"][0]["name"], "renamed");
        assert_eq!(result["metadata"]["ownerReferences"][0]["kind"], "X");
        assert_eq!(result["metadata"]["ownerReferences"][1]["uid"], "u2");
    }

    #[test]
    fn delete_from_primitive_list_removes_values() {
        let patch = json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert_eq!(result["metadata"]["finalizers"], json!(["b"]));
    }

    #[test]
    fn conditions_merge_by_type() {
        let pod = json!({"kind": "Pod", "status": {"conditions": [
            {"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}
        ]}});
        let patch = json!({"status": {"conditions": [{"type": "Ready", "status": "True"}]}});
        let result = strategic(&pod, &patch, "Pod").unwrap();
        assert_eq!(
            result["status"]["conditions"],
            json!([{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}])
        );
        let dep = json!({"kind": "Deployment", "status": {"conditions": [{"type": "Available", "status": "True"}]}});
        let patch = json!({"status": {"conditions": [{"type": "Progressing", "status": "True"}]}});
        let result = strategic(&dep, &patch, "Deployment").unwrap();
        assert_eq!(result["status"]["conditions"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn null_deletes_a_key_and_unmatched_nulls_are_ignored() {
        let node =
            json!({"kind": "Node", "spec": {"unschedulable": true, "podCIDR": "10.244.1.0/24"}});
        let patch = json!({"spec": {"unschedulable": null, "nothing": null}});
        let result = strategic(&node, &patch, "Node").unwrap();
        assert_eq!(result["spec"], json!({"podCIDR": "10.244.1.0/24"}));
    }

    #[test]
    fn kubectl_rollout_restart_patch_adds_the_annotation() {
        let patch = json!({"spec": {"template": {"metadata": {"annotations": {
            "kubectl.kubernetes.io/restartedAt": "2026-11-23T10:00:00Z"
        }}}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert_eq!(
            result["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"],
            "2026-11-23T10:00:00Z"
        );
        assert_eq!(
            result["spec"]["template"]["metadata"]["labels"]["app"],
            "gateway-proxy"
        );
    }

    #[test]
    fn patch_replace_directive_in_a_list_replaces_it() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"$patch": "replace"}, {"name": "only", "image": "only:1"}
        ]}}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert_eq!(
            result["spec"]["template"]["spec"]["containers"],
            json!([{"name": "only", "image": "only:1"}])
        );
    }

    #[test]
    fn patch_delete_directive_in_a_list_removes_the_element() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "sidecar", "$patch": "delete"}
        ]}}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        let containers = result["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 1);
        assert_eq!(containers[0]["name"], "proxy");
    }

    #[test]
    fn patch_directives_in_maps() {
        let patch = json!({"spec": {"strategy": {"$patch": "replace", "type": "Recreate"}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert_eq!(result["spec"]["strategy"], json!({"type": "Recreate"}));

        let patch = json!({"spec": {"template": {"metadata": {"labels": {"$patch": "delete"}}}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert_eq!(result["spec"]["template"]["metadata"]["labels"], json!({}));

        let patch = json!({"spec": {"selector": {"$patch": "delete"}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert!(result["spec"].get("selector").is_none());

        let bad = json!({"spec": {"strategy": {"$patch": "merge"}}});
        assert!(strategic(&deployment(), &bad, "Deployment").is_err());
        let bad_list =
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": "merge"}]}}}});
        assert!(strategic(&deployment(), &bad_list, "Deployment").is_err());
    }

    #[test]
    fn retain_keys_clears_other_keys() {
        let patch = json!({"spec": {"strategy": {
            "$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null
        }}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert_eq!(result["spec"]["strategy"], json!({"type": "Recreate"}));

        let patch = json!({"spec": {"template": {"spec": {"volumes": [
            {"name": "conf", "$retainKeys": ["name", "emptyDir"], "emptyDir": {}}
        ]}}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert_eq!(
            result["spec"]["template"]["spec"]["volumes"],
            json!([{"name": "conf", "emptyDir": {}}])
        );

        let bad = json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}});
        assert!(strategic(&deployment(), &bad, "Deployment").is_err());
    }

    #[test]
    fn set_element_order_orders_the_merged_list() {
        // What kubectl set resources / kubectl apply send: the full order plus the changes.
        let patch = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "proxy"}],
            "containers": [{"name": "proxy", "resources": {"limits": {"cpu": "1"}}}]
        }}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        let containers = result["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers[0]["name"], "sidecar");
        assert_eq!(containers[1]["name"], "proxy");
        assert_eq!(containers[1]["resources"]["limits"]["cpu"], "1");
        assert_eq!(containers[1]["resources"]["limits"]["memory"], "512Mi");

        let patch = json!({"metadata": {"$setElementOrder/finalizers": ["c", "b", "a"], "finalizers": ["c"]}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert_eq!(result["metadata"]["finalizers"], json!(["c", "b", "a"]));

        let mismatched = json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "proxy"}],
            "containers": [{"name": "sidecar", "image": "x"}]
        }}}});
        assert!(strategic(&deployment(), &mismatched, "Deployment").is_err());
    }

    #[test]
    fn list_items_without_the_merge_key_are_rejected() {
        let patch = json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}});
        let err = strategic(&deployment(), &patch, "Deployment").unwrap_err();
        assert!(err.contains("merge key: name"), "{err}");
    }

    #[test]
    fn pod_spec_merges_at_every_template_depth() {
        let pod = json!({"kind": "Pod", "spec": {"containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}});
        let patch = json!({"spec": {"containers": [{"name": "b", "image": "b:2"}]}});
        let result = strategic(&pod, &patch, "Pod").unwrap();
        assert_eq!(result["spec"]["containers"][0]["image"], "a:1");
        assert_eq!(result["spec"]["containers"][1]["image"], "b:2");

        let cron = json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]}}}}}});
        let patch = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "a", "image": "a:2"}]}}}}}});
        let result = strategic(&cron, &patch, "CronJob").unwrap();
        let containers = &result["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers.as_array().unwrap().len(), 2);
        assert_eq!(containers[0]["image"], "a:2");
    }

    #[test]
    fn unknown_kinds_merge_maps_and_replace_lists() {
        let cm =
            json!({"kind": "ConfigMap", "data": {"a": "1", "b": "2"}, "list": [{"name": "x"}]});
        let patch = json!({"data": {"a": null, "c": "3"}, "list": [{"name": "y"}]});
        let result = strategic(&cm, &patch, "ConfigMap").unwrap();
        assert_eq!(result["data"], json!({"b": "2", "c": "3"}));
        assert_eq!(result["list"], json!([{"name": "y"}]));
    }

    #[test]
    fn pdb_selector_is_replaced_not_merged() {
        let pdb = json!({"kind": "PodDisruptionBudget", "spec": {"minAvailable": 1,
            "selector": {"matchLabels": {"app": "a", "tier": "web"}}}});
        let patch = json!({"spec": {"selector": {"matchLabels": {"app": "b"}}}});
        let result = strategic(&pdb, &patch, "PodDisruptionBudget").unwrap();
        assert_eq!(
            result["spec"]["selector"],
            json!({"matchLabels": {"app": "b"}})
        );
        assert_eq!(result["spec"]["minAvailable"], 1);
    }

    #[test]
    fn type_changes_replace_the_value() {
        let patch = json!({"spec": {"strategy": {"rollingUpdate": {"maxSurge": 1}}}});
        let result = strategic(&deployment(), &patch, "Deployment").unwrap();
        assert_eq!(result["spec"]["strategy"]["rollingUpdate"]["maxSurge"], 1);
        assert_eq!(
            result["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"],
            "25%"
        );
    }

    #[test]
    fn strategic_support_by_api_group() {
        assert!(supports_strategic("v1"));
        assert!(supports_strategic("apps/v1"));
        assert!(supports_strategic("policy/v1"));
        assert!(!supports_strategic("gateway.networking.k8s.io/v1"));
        assert!(!supports_strategic("metrics.k8s.io/v1beta1"));
    }
}
