//! The admission chain of a write, in the real API server's order: defaulting, mutating
//! webhooks, validation (with an update's immutability rules), validating webhooks. Webhooks
//! are modelled by their failure only ([`FailingWebhooks`]): one with `failurePolicy: Fail`
//! and no ready backend refuses what it intercepts with `500 Internal error occurred: failed
//! calling webhook ...`.

use serde_json::Value;

use crate::controllers::{FailingWebhooks, Operation, Phase, Write};
use crate::errors::{ApiError, FieldCause};
use crate::resources::ResourceType;
use crate::store::str_at;
use crate::{defaults, validation};

use super::crud::Call;

/// What a write goes through before it is stored, loaded before the store is locked (updates
/// are admitted inside [`crate::store::Store::modify`]).
pub struct Admission {
    operation: Operation,
    subresource: Option<String>,
    failing: FailingWebhooks,
    namespace: Option<Value>,
}

impl Admission {
    /// The admission of `operation` on the call's resource (and subresource).
    pub fn load(call: &Call<'_>, operation: Operation) -> Admission {
        let store = &call.app.store;
        let failing = FailingWebhooks::load(store);
        let namespace = if failing.is_empty() {
            None
        } else {
            call.namespace()
                .and_then(|ns| store.get("namespaces", None, ns))
        };
        Admission {
            operation,
            subresource: call.target.subresource.clone(),
            failing,
            namespace,
        }
    }

    /// Defaults `obj`, makes its quantities canonical and runs it through the webhooks and
    /// validation; `current` is the stored object of an update whose immutable fields must
    /// not change.
    pub fn admit(
        &self,
        resource: &ResourceType,
        obj: &mut Value,
        current: Option<&Value>,
    ) -> Result<(), ApiError> {
        defaults::apply(resource, obj);
        self.call_webhooks(Phase::Mutating, resource, obj)?;
        validation::canonicalize_quantities(resource, obj);
        validation::validate(resource, obj)?;
        if let Some(current) = current {
            check_update(resource, current, obj)?;
        }
        self.call_webhooks(Phase::Validating, resource, obj)
    }

    fn call_webhooks(
        &self,
        phase: Phase,
        resource: &ResourceType,
        obj: &Value,
    ) -> Result<(), ApiError> {
        let write = Write {
            operation: self.operation,
            group: resource.group,
            plural: resource.plural,
            subresource: self.subresource.as_deref(),
            object: obj,
            namespace: self.namespace.as_ref(),
        };
        match self.failing.refusal(phase, &write) {
            Some(error) => Err(ApiError::internal(error)),
            None => Ok(()),
        }
    }
}

/// Fields of a running pod's spec that an update may change (`ValidatePodUpdate`).
fn pod_spec_without_mutable_fields(spec: Option<&Value>) -> Value {
    let mut spec = spec.cloned().unwrap_or(Value::Null);
    if let Some(map) = spec.as_object_mut() {
        map.remove("activeDeadlineSeconds");
        map.remove("tolerations");
        map.remove("terminationGracePeriodSeconds");
        for list in ["containers", "initContainers"] {
            if let Some(containers) = map.get_mut(list).and_then(Value::as_array_mut) {
                for container in containers.iter_mut().filter_map(Value::as_object_mut) {
                    container.remove("image");
                }
            }
        }
    }
    spec
}

/// Rules of updates beyond validation: a pod's spec is mostly immutable, workload selectors are.
fn check_update(resource: &ResourceType, current: &Value, next: &Value) -> Result<(), ApiError> {
    let name = str_at(next, "name");
    let mut causes = Vec::new();
    if resource.kind == "Pod" {
        // Compare with the stored pod as the server would hold it: defaulted, canonical.
        let mut stored = current.clone();
        defaults::apply(resource, &mut stored);
        validation::canonicalize_quantities(resource, &mut stored);
        if pod_spec_without_mutable_fields(stored.get("spec"))
            != pod_spec_without_mutable_fields(next.get("spec"))
        {
            causes.push(FieldCause::forbidden(
                "spec",
                "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
            ));
        }
    }
    let workload = matches!(
        resource.kind,
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet"
    );
    if workload && current.pointer("/spec/selector") != next.pointer("/spec/selector") {
        let selector = next
            .pointer("/spec/selector")
            .cloned()
            .unwrap_or(Value::Null);
        let shown = Value::String(format!("v1.LabelSelector{selector}"));
        causes.push(FieldCause::invalid(
            "spec.selector",
            &shown,
            "field is immutable",
        ));
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
