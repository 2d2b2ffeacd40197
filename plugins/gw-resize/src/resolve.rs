//! From TARGET to one Deployment or StatefulSet: kinds as typed, a pod's owner, a bare name
//! (workload, else pod, else gateway component), a gateway profile's component.

use std::io::IsTerminal;

use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::Api;
use runbook::pods::{OwnerKind, controller_ref, owner_of};
use runbook::profiles::{ComponentMatch, ComponentRef, Profile, component_names, find_component};
use runbook::workload::{Workload, WorkloadArg, WorkloadKind, fetch_workload};
use runbook::{Error, Finding, KubeResultExt, Op, Result};

use crate::fetch;
use crate::target::TargetRef;
use crate::workload::WorkloadExt;

/// The workload TARGET resolved to.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// Its kind.
    pub kind: WorkloadKind,
    /// Its name.
    pub name: String,
    /// Its namespace (a component's own namespace unless `-n` was given).
    pub namespace: String,
    /// `resize.pod-target` when TARGET named a pod.
    pub notice: Option<Finding>,
    /// The workload as read while resolving (the first plan's input).
    pub workload: Workload,
}

impl Resolved {
    fn of(w: &Workload, notice: Option<Finding>) -> Resolved {
        Resolved {
            kind: w.kind(),
            name: w.name().to_string(),
            namespace: w.namespace().to_string(),
            notice,
            workload: w.clone(),
        }
    }
}

/// How to pick one component of a profile with several.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chooser {
    /// Ask on the terminal.
    Ask,
    /// Refuse, listing the choices (no terminal, or `--yes`).
    Refuse,
}

impl Chooser {
    /// Ask when stdin and stderr are terminals and `--yes` was not given.
    pub fn for_session(yes: bool) -> Chooser {
        if !yes && std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            Chooser::Ask
        } else {
            Chooser::Refuse
        }
    }

    fn choose(self, profile: &str, all: &[ComponentRef]) -> Result<ComponentRef> {
        let names: Vec<String> = all
            .iter()
            .map(|c| format!("{profile}/{}", c.deployment))
            .collect();
        if self == Chooser::Ask {
            let picked = dialoguer::Select::new()
                .with_prompt(format!(
                    "{profile} has {} components: which one?",
                    all.len()
                ))
                .items(&names)
                .default(0)
                .interact_on_opt(&dialoguer::console::Term::stderr())
                .map_err(|e| Error::usage(format!("cannot read the answer: {e}")))?;
            if let Some(i) = picked {
                return Ok(all[i].clone());
            }
        }
        Err(Error::usage(format!(
            "{profile} has {} components: name one, e.g. kubectl gw-resize {} (choices: {})",
            all.len(),
            names[0],
            names.join(", ")
        )))
    }
}

/// Where and how to resolve TARGET.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// `-n`, else the context's namespace.
    pub namespace: &'a str,
    /// True when `-n` was passed: a component is then looked up there instead of in its
    /// profile's namespace.
    pub namespace_given: bool,
    /// The gateway profiles known (user profiles first, then built-ins).
    pub profiles: &'a [Profile],
}

/// Resolves TARGET within `scope`.
pub async fn resolve(
    client: &Client,
    scope: Scope<'_>,
    target: &TargetRef,
    chooser: Chooser,
) -> Result<Resolved> {
    let Scope {
        namespace,
        namespace_given,
        profiles,
    } = scope;
    match target {
        TargetRef::Workload(arg) if arg.kind_given => {
            let w = fetch_workload(client, namespace, arg).await?;
            Ok(Resolved::of(&w, None))
        }
        TargetRef::Workload(arg) => resolve_bare(client, scope, arg, chooser).await,
        TargetRef::Pod(name) => pod_owner(client, namespace, name)
            .await?
            .ok_or_else(|| Error::not_found("pod", name, Some(namespace), std::iter::empty())),
        TargetRef::Component(text) => match find_component(profiles, text) {
            Some(m) => component(client, namespace, namespace_given, text, m, chooser).await,
            None => Err(Error::not_found(
                "component",
                text,
                None,
                component_names(profiles).iter().map(String::as_str),
            )),
        },
    }
}

async fn resolve_bare(
    client: &Client,
    scope: Scope<'_>,
    arg: &WorkloadArg,
    chooser: Chooser,
) -> Result<Resolved> {
    let namespace = scope.namespace;
    let not_found = match fetch_workload(client, namespace, arg).await {
        Ok(w) => return Ok(Resolved::of(&w, None)),
        Err(e @ Error::NotFound { .. }) => e,
        Err(e) => return Err(e),
    };
    let name = arg.target.name();
    if let Some(r) = pod_owner(client, namespace, name).await? {
        return Ok(r);
    }
    match find_component(scope.profiles, name) {
        Some(m) => component(client, namespace, scope.namespace_given, name, m, chooser).await,
        None => Err(not_found),
    }
}

async fn component(
    client: &Client,
    namespace: &str,
    namespace_given: bool,
    text: &str,
    m: ComponentMatch,
    chooser: Chooser,
) -> Result<Resolved> {
    let c = match m {
        ComponentMatch::One(c) => c,
        ComponentMatch::Several(all) => {
            let profile = all.first().map_or(text, |c| c.profile.as_str());
            chooser.choose(profile, &all)?
        }
    };
    let ns = if namespace_given {
        namespace
    } else {
        &c.namespace
    };
    let w = fetch::workload(client, ns, WorkloadKind::Deployment, &c.deployment).await?;
    Ok(Resolved::of(&w, None))
}

/// The Deployment or StatefulSet owning pod `name`, `None` when there is no such pod.
async fn pod_owner(client: &Client, namespace: &str, name: &str) -> Result<Option<Resolved>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let Some(pod) = pods
        .get_opt(name)
        .await
        .during(Op::new("get", "pods").ns(namespace).name(name))?
    else {
        return Ok(None);
    };
    let mut replicasets = Vec::new();
    if let Some(r) = controller_ref(&pod.metadata).filter(|r| r.kind == "ReplicaSet") {
        let api: Api<ReplicaSet> = Api::namespaced(client.clone(), namespace);
        let op = Op::new("get", "replicasets.apps")
            .ns(namespace)
            .name(&r.name);
        replicasets.extend(api.get_opt(&r.name).await.during(op)?);
    }
    let owner = owner_of(&pod, &replicasets);
    let kind = match owner.kind {
        OwnerKind::Deployment => WorkloadKind::Deployment,
        OwnerKind::StatefulSet => WorkloadKind::StatefulSet,
        OwnerKind::None => {
            return Err(Error::usage(format!(
                "pod {name} has no controller: gw-resize changes Deployments and StatefulSets, and a bare pod's resources cannot change in place"
            )));
        }
        _ => {
            return Err(Error::usage(format!(
                "pod {name} belongs to {}: gw-resize changes Deployments and StatefulSets",
                owner.reference()
            )));
        }
    };
    let w = fetch::workload(client, namespace, kind, &owner.name).await?;
    let notice = Finding::info(
        "resize.pod-target",
        w.subject(),
        format!(
            "{name} is a pod: changing its owner {} instead (a pod's template belongs to its controller; editing the pod, as runbook 000 does, cannot work)",
            w.reference()
        ),
        "",
    );
    Ok(Some(Resolved::of(&w, Some(notice))))
}
