//! The plan: what will change, computed from the fetched workload and the flags, before
//! anything is sent. Pure: [`build_plan`] never talks to the API server.

use k8s_openapi::api::core::v1::{Container, PodTemplateSpec, Toleration};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity as K8sQuantity;
use runbook::quantity::Quantity;
use runbook::{Error, Result};
use serde::Serialize;

use runbook::workload::{Workload, WorkloadKind};

use crate::change::{ChangeRequest, ResourceFlag, Side, edit_tolerations};
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
    let map = if limit {
        r.limits.as_ref()
    } else {
        r.requests.as_ref()
    };
    map?.get(resource).and_then(|q| Quantity::try_from(q).ok())
}

/// The workload's current template, or an error naming it when the object has none.
pub fn template_of(w: &Workload) -> Result<&PodTemplateSpec> {
    w.template().ok_or_else(|| {
        Error::Api(format!(
            "{} has no pod template (spec missing)",
            w.subject()
        ))
    })
}

/// A container's request or limit for `resource` set to `q` (in place).
fn set_value(c: &mut Container, resource: &str, limit: bool, q: &Quantity) {
    let r = c.resources.get_or_insert_with(Default::default);
    let map = if limit {
        &mut r.limits
    } else {
        &mut r.requests
    };
    map.get_or_insert_with(Default::default)
        .insert(resource.to_string(), K8sQuantity(q.to_string()));
}

/// The container `-c` names, or the only regular container; usage errors list the names.
fn select_container<'a>(
    t: &'a PodTemplateSpec,
    wanted: Option<&str>,
    reference: &str,
) -> Result<(&'a Container, bool)> {
    let names = |init: bool| -> Vec<&str> {
        all_containers(t)
            .filter(|(_, i)| *i == init)
            .map(|(c, _)| c.name.as_str())
            .collect()
    };
    let listing = || {
        let init = names(true);
        let mut s = names(false).join(", ");
        if !init.is_empty() {
            s.push_str(&format!("; init: {}", init.join(", ")));
        }
        s
    };
    match wanted {
        Some(name) => all_containers(t)
            .find(|(c, _)| c.name == name)
            .ok_or_else(|| {
                Error::usage(format!(
                    "{reference} has no container \"{name}\": its containers are {}",
                    listing()
                ))
            }),
        None => {
            let regular: Vec<(&Container, bool)> = all_containers(t).filter(|(_, i)| !i).collect();
            match regular.as_slice() {
                [one] => Ok(*one),
                [] => Err(Error::usage(format!("{reference} has no containers"))),
                _ => Err(Error::usage(format!(
                    "{reference} has {} containers ({}): choose one with -c",
                    regular.len(),
                    listing()
                ))),
            }
        }
    }
}

/// Applies the resource flags of one resource to a container's current request and limit.
///
/// `--memory`/`--cpu` move both: an absolute value sets both; a relative one applies to
/// each value that is set (so `+500Mi` raises both by 500Mi as runbook 000 does, and `x1.5`
/// keeps their ratio), and needs at least one.
fn edit_resource(
    resource: &str,
    flags: &[ResourceFlag],
    request: Option<Quantity>,
    limit: Option<Quantity>,
) -> Result<(Option<Quantity>, Option<Quantity>)> {
    let (mut req, mut lim) = (request, limit);
    for f in flags.iter().filter(|f| f.resource == resource) {
        match f.side {
            Side::Both if !f.edit.is_relative() || (req.is_none() && lim.is_none()) => {
                let q = f.edit.apply(None, resource)?;
                req = Some(q);
                lim = Some(q);
            }
            Side::Both => {
                req = req.map(|q| f.edit.apply(Some(&q), resource)).transpose()?;
                lim = lim.map(|q| f.edit.apply(Some(&q), resource)).transpose()?;
            }
            Side::Request => {
                // An unset request means "equal to the limit" once the pod is created.
                req = Some(f.edit.apply(req.or(lim).as_ref(), resource)?);
            }
            Side::Limit => lim = Some(f.edit.apply(lim.as_ref(), resource)?),
        }
    }
    Ok((req, lim))
}

/// Computes the plan: the new template and replica count from the workload as read.
/// `restarted_at` is the value `--restart` writes (see [`restart_stamp`]).
pub fn build_plan(w: &Workload, req: &ChangeRequest, restarted_at: &str) -> Result<Plan> {
    let old_template = template_of(w)?.clone();
    let mut new_template = old_template.clone();
    let mut containers = Vec::new();
    if !req.resources.is_empty() {
        let (container, init) =
            select_container(&old_template, req.container.as_deref(), &w.reference())?;
        let mut edited = container.clone();
        let mut resources = Vec::new();
        for resource in ["memory", "cpu"] {
            if !req.resources.iter().any(|f| f.resource == resource) {
                continue;
            }
            let from = (
                container_value(container, resource, false),
                container_value(container, resource, true),
            );
            let to = edit_resource(resource, &req.resources, from.0, from.1)
                .map_err(|e| Error::usage(format!("container {}: {e}", container.name)))?;
            for (limit, old, new) in [(false, from.0, to.0), (true, from.1, to.1)] {
                if let Some(q) = new.filter(|q| Some(*q) != old) {
                    set_value(&mut edited, resource, limit, &q);
                }
            }
            resources.push(ResourcePlan {
                resource: resource.to_string(),
                request: ValueChange {
                    from: from.0,
                    to: to.0,
                },
                limit: ValueChange {
                    from: from.1,
                    to: to.1,
                },
            });
        }
        if let Some(spec) = new_template.spec.as_mut() {
            let list = if init {
                spec.init_containers.get_or_insert_with(Vec::new)
            } else {
                &mut spec.containers
            };
            if let Some(slot) = list.iter_mut().find(|c| c.name == edited.name) {
                *slot = edited.clone();
            }
        }
        containers.push(ContainerPlan {
            name: edited.name,
            init,
            resources,
        });
    }
    let current_replicas = w.replicas();
    let replicas = req
        .replicas
        .map(|edit| {
            edit.apply(current_replicas)
                .map(|to| ReplicaPlan {
                    from: current_replicas,
                    to,
                })
                .map_err(Error::from)
        })
        .transpose()?;
    let restarted_at = req.restart.then(|| restarted_at.to_string());
    if let Some(stamp) = &restarted_at {
        new_template
            .metadata
            .get_or_insert_with(Default::default)
            .annotations
            .get_or_insert_with(Default::default)
            .insert(RESTARTED_AT_ANNOTATION.to_string(), stamp.clone());
    }
    let mut tolerations = None;
    if !req.add_tolerations.is_empty() || !req.remove_tolerations.is_empty() {
        let spec = new_template.spec.get_or_insert_with(Default::default);
        let from = spec.tolerations.clone().unwrap_or_default();
        let to = edit_tolerations(&from, &req.add_tolerations, &req.remove_tolerations);
        if to != from {
            spec.tolerations = (!to.is_empty()).then(|| to.clone());
        }
        tolerations = Some(TolerationPlan { from, to });
    }
    Ok(Plan {
        kind: w.kind(),
        name: w.name().to_string(),
        namespace: w.namespace().to_string(),
        resource_version: w.resource_version().to_string(),
        revision: w.revision(),
        containers,
        replicas,
        restarted_at,
        tolerations,
        current_replicas,
        surge: w.surge(),
        old_template,
        new_template,
    })
}

/// Now, as `kubectl rollout restart` writes it: RFC 3339 in local time, seconds, `Z` for UTC.
pub fn restart_stamp() -> String {
    let now = jiff::Zoned::now();
    let text = now.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string();
    match text.strip_suffix("+00:00") {
        Some(utc) => format!("{utc}Z"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::{Value, json};

    use crate::cli::Cli;

    const STAMP: &str = "2026-11-05T10:00:00Z";

    fn deployment(containers: Value) -> Workload {
        Workload::Deployment(Box::new(
            serde_json::from_value(json!({
                "metadata": {"name": "gateway-proxy", "namespace": "gateway-system",
                              "resourceVersion": "812", "generation": 3,
                              "annotations": {"deployment.kubernetes.io/revision": "3"}},
                "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "gw"}},
                          "template": {"metadata": {"labels": {"app": "gw"}},
                                       "spec": {"containers": containers,
                                                "initContainers": [{"name": "init-config", "image": "busybox"}]}}}
            }))
            .unwrap(),
        ))
    }

    fn proxy() -> Value {
        json!([{"name": "proxy", "image": "gw:1", "env": [{"name": "A", "value": "1"}],
                "resources": {"requests": {"memory": "256Mi", "cpu": "100m"},
                              "limits": {"memory": "512Mi"}}}])
    }

    fn plan(w: &Workload, args: &[&str]) -> Result<Plan> {
        let mut argv = vec!["gw-resize", "deploy/gateway-proxy"];
        argv.extend_from_slice(args);
        let req = ChangeRequest::from_cli(&Cli::try_parse_from(argv).unwrap())?;
        build_plan(w, &req, STAMP)
    }

    fn q(s: &str) -> Option<Quantity> {
        Some(s.parse().unwrap())
    }

    fn new_resources(p: &Plan) -> Value {
        serde_json::to_value(&p.new_template.spec.as_ref().unwrap().containers[0].resources)
            .unwrap()
    }

    #[test]
    fn memory_plus_500mi_raises_request_and_limit() {
        let p = plan(&deployment(proxy()), &["--memory", "+500Mi"]).unwrap();
        assert_eq!(p.containers.len(), 1);
        let mem = &p.containers[0].resources[0];
        assert_eq!(mem.resource, "memory");
        assert_eq!(
            mem.request,
            ValueChange {
                from: q("256Mi"),
                to: q("756Mi")
            }
        );
        assert_eq!(
            mem.limit,
            ValueChange {
                from: q("512Mi"),
                to: q("1012Mi")
            }
        );
        assert_eq!(
            new_resources(&p),
            json!({"requests": {"memory": "756Mi", "cpu": "100m"}, "limits": {"memory": "1012Mi"}})
        );
        assert!(p.changes_template());
        assert!(!p.changes_replicas());
        assert_eq!(p.resource_version, "812");
        assert_eq!(p.surge, 1);
    }

    #[test]
    fn scaling_keeps_the_ratio_and_absolute_sets_both() {
        let p = plan(&deployment(proxy()), &["--memory", "x1.5"]).unwrap();
        let mem = &p.containers[0].resources[0];
        assert_eq!((mem.request.to, mem.limit.to), (q("384Mi"), q("768Mi")));
        let p = plan(&deployment(proxy()), &["--memory", "1Gi"]).unwrap();
        let mem = &p.containers[0].resources[0];
        assert_eq!((mem.request.to, mem.limit.to), (q("1Gi"), q("1Gi")));
    }

    #[test]
    fn one_side_flags_and_missing_values() {
        let p = plan(
            &deployment(proxy()),
            &["--cpu-limit", "500m", "--cpu-request", "+50m"],
        )
        .unwrap();
        let cpu = &p.containers[0].resources[0];
        assert_eq!(
            cpu.request,
            ValueChange {
                from: q("100m"),
                to: q("150m")
            }
        );
        assert_eq!(
            cpu.limit,
            ValueChange {
                from: None,
                to: q("500m")
            }
        );
        let err = plan(&deployment(proxy()), &["--cpu-limit", "+100m"]).unwrap_err();
        assert_eq!(err.exit_code(), 64);
        assert!(
            err.to_string()
                .contains("container proxy: no current cpu value"),
            "{err}"
        );
        let err = plan(&deployment(proxy()), &["--memory", "-1Gi"]).unwrap_err();
        assert!(err.to_string().contains("must be above zero"), "{err}");
    }

    #[test]
    fn only_changed_values_are_written() {
        let p = plan(&deployment(proxy()), &["--memory-limit", "0.5Gi"]).unwrap();
        assert!(!p.changes_template(), "0.5Gi equals 512Mi: nothing changes");
        assert!(p.is_noop());
        let resources = new_resources(&p);
        assert_eq!(
            resources["limits"]["memory"], "512Mi",
            "the stored spelling is kept"
        );
    }

    #[test]
    fn several_containers_need_c_and_unknown_names_are_listed() {
        let two = json!([{"name": "proxy", "image": "gw:1"}, {"name": "istio-proxy", "image": "proxyv2"}]);
        let err = plan(&deployment(two.clone()), &["--memory", "1Gi"]).unwrap_err();
        assert_eq!(err.exit_code(), 64);
        assert_eq!(
            err.to_string(),
            "deploy/gateway-proxy has 2 containers (proxy, istio-proxy; init: init-config): choose one with -c"
        );
        let err = plan(
            &deployment(two.clone()),
            &["-c", "envoy", "--memory", "1Gi"],
        )
        .unwrap_err();
        assert!(err.to_string().contains("no container \"envoy\""), "{err}");
        let p = plan(&deployment(two), &["-c", "istio-proxy", "--memory", "1Gi"]).unwrap();
        assert_eq!(p.containers[0].name, "istio-proxy");
        let spec = p.new_template.spec.as_ref().unwrap();
        assert_eq!(
            spec.containers[0],
            p.old_template.spec.as_ref().unwrap().containers[0]
        );
    }

    #[test]
    fn init_containers_can_be_named() {
        let p = plan(
            &deployment(proxy()),
            &["-c", "init-config", "--cpu", "200m"],
        )
        .unwrap();
        assert!(p.containers[0].init);
        let init = &p
            .new_template
            .spec
            .as_ref()
            .unwrap()
            .init_containers
            .as_ref()
            .unwrap()[0];
        assert_eq!(container_value(init, "cpu", true), q("200m"));
    }

    #[test]
    fn replicas_restart_and_tolerations() {
        let p = plan(&deployment(proxy()), &["--replicas", "+2", "--restart"]).unwrap();
        assert_eq!(p.replicas, Some(ReplicaPlan { from: 2, to: 4 }));
        assert_eq!(p.restarted_at.as_deref(), Some(STAMP));
        let annotations = p
            .new_template
            .metadata
            .as_ref()
            .unwrap()
            .annotations
            .as_ref()
            .unwrap();
        assert_eq!(annotations[RESTARTED_AT_ANNOTATION], STAMP);
        assert!(plan(&deployment(proxy()), &["--replicas", "-3"]).is_err());
        let p = plan(
            &deployment(proxy()),
            &["--add-toleration", "dedicated=gateway:NoSchedule"],
        )
        .unwrap();
        let t = p.tolerations.as_ref().unwrap();
        assert!(t.from.is_empty());
        assert_eq!(t.to.len(), 1);
        assert_eq!(
            p.new_template
                .spec
                .as_ref()
                .unwrap()
                .tolerations
                .as_ref()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn restart_stamp_is_rfc3339_seconds() {
        let s = restart_stamp();
        assert!(s.parse::<jiff::Timestamp>().is_ok(), "{s}");
        assert_eq!(s.len(), if s.ends_with('Z') { 20 } else { 25 }, "{s}");
    }
}
