//! The plan: what will change, computed from the fetched workload and the flags, before
//! anything is sent. Pure: [`build_plan`] never talks to the API server.

use k8s_openapi::api::core::v1::{Container, PodTemplateSpec, Toleration};
use runbook::quantity::Quantity;
use serde::Serialize;

use runbook::workload::{Workload, WorkloadKind};

use crate::workload::WorkloadExt;

/// The annotation `kubectl rollout restart` sets on the pod template.
pub const RESTARTED_AT_ANNOTATION: &str = "kubectl.kubernetes.io/restartedAt";

/// One value before and after (`None`: not set).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ValueChange {
    /// The current value.
    pub from: Option<Quantity>,
    /// The value after the change.
    pub to: Option<Quantity>,
}

impl ValueChange {
    /// True when the value changes (by amount: `1Gi` to `1024Mi` is no change).
    pub fn changed(&self) -> bool {
        self.from != self.to
    }
}

/// One resource (`cpu`, `memory`) of one container: request and limit before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ResourcePlan {
    /// `cpu` or `memory`.
    pub resource: String,
    /// The request.
    pub request: ValueChange,
    /// The limit.
    pub limit: ValueChange,
}

impl ResourcePlan {
    /// True when the request or the limit changes.
    pub fn changed(&self) -> bool {
        self.request.changed() || self.limit.changed()
    }
}

/// The resources of one container the flags touch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPlan {
    /// The container's name.
    pub name: String,
    /// True for an init container (native sidecars included).
    pub init: bool,
    /// One entry per resource a flag names.
    pub resources: Vec<ResourcePlan>,
}

/// The replica count before and after.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ReplicaPlan {
    /// `spec.replicas` now.
    pub from: i32,
    /// `spec.replicas` after.
    pub to: i32,
}

/// The template's tolerations before and after.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TolerationPlan {
    /// The tolerations now.
    pub from: Vec<Toleration>,
    /// The tolerations after.
    pub to: Vec<Toleration>,
}

/// Everything gw-resize is about to change on one workload.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// Deployment or StatefulSet.
    pub kind: WorkloadKind,
    /// The workload's name.
    pub name: String,
    /// The workload's namespace.
    pub namespace: String,
    /// The resourceVersion the plan was made from: the patch's precondition.
    pub resource_version: String,
    /// The Deployment's revision or the StatefulSet's update revision when planned.
    pub revision: Option<String>,
    /// Per container, the resources the flags touch.
    pub containers: Vec<ContainerPlan>,
    /// The replica change, when `--replicas` was given.
    pub replicas: Option<ReplicaPlan>,
    /// The `restartedAt` value, when `--restart` was given.
    pub restarted_at: Option<String>,
    /// The toleration change, when `--add-toleration`/`--remove-toleration` were given.
    pub tolerations: Option<TolerationPlan>,
    /// `spec.replicas` when planned.
    pub current_replicas: i32,
    /// Pods a rolling update may add above the replica count (maxSurge).
    pub surge: i32,
    /// The pod template now.
    #[serde(skip)]
    pub old_template: PodTemplateSpec,
    /// The pod template after the change.
    #[serde(skip)]
    pub new_template: PodTemplateSpec,
}

impl Plan {
    /// `deployment/ns/name`, the subject of findings.
    pub fn subject(&self) -> String {
        runbook::findings::subject(self.kind.word(), &self.namespace, &self.name)
    }

    /// `deploy/name`.
    pub fn reference(&self) -> String {
        format!("{}/{}", crate::target::short(self.kind), self.name)
    }

    /// True when the pod template changes (a new rollout starts).
    pub fn changes_template(&self) -> bool {
        self.old_template != self.new_template
    }

    /// The replica count after the change.
    pub fn new_replicas(&self) -> i32 {
        self.replicas.map_or(self.current_replicas, |r| r.to)
    }

    /// True when the replica count changes.
    pub fn changes_replicas(&self) -> bool {
        self.replicas.is_some_and(|r| r.from != r.to)
    }

    /// True when nothing would change (the values asked for are already set).
    pub fn is_noop(&self) -> bool {
        !self.changes_template() && !self.changes_replicas()
    }

    /// The names of the containers whose resources change.
    pub fn changed_containers(&self) -> impl Iterator<Item = &ContainerPlan> {
        self.containers
            .iter()
            .filter(|c| c.resources.iter().any(ResourcePlan::changed))
    }
}

/// The containers of a template: regular ones, then init containers.
pub fn all_containers(t: &PodTemplateSpec) -> impl Iterator<Item = (&Container, bool)> {
    let spec = t.spec.as_ref();
    spec.into_iter()
        .flat_map(|s| s.containers.iter().map(|c| (c, false)))
        .chain(
            spec.into_iter()
                .flat_map(|s| s.init_containers.iter().flatten().map(|c| (c, true))),
        )
}

/// The container called `name` in a template (regular or init).
pub fn find_container<'a>(t: &'a PodTemplateSpec, name: &str) -> Option<&'a Container> {
    all_containers(t).map(|(c, _)| c).find(|c| c.name == name)
}

/// A container's request or limit for `resource`, parsed; `None` when unset or unreadable.
pub fn container_value(c: &Container, resource: &str, limit: bool) -> Option<Quantity> {
    let r = c.resources.as_ref()?;
    let map = if limit { r.limits.as_ref() } else { r.requests.as_ref() };
    map?.get(resource).and_then(|q| Quantity::try_from(q).ok())
}

/// The workload's current template, or an error naming it when the object has none.
pub fn template_of(w: &Workload) -> runbook::Result<&PodTemplateSpec> {
    w.template().ok_or_else(|| {
        runbook::Error::Api(format!("{} has no pod template (spec missing)", w.subject()))
    })
}
