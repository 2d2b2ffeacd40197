//! Each API call a plugin makes, refused in turn (403 by RBAC, or 404): the plugin names what
//! was refused, or carries on without it, and never panics.

use testcluster::faults::FaultAction;
use testcluster::rbac::ForbidRule;

use super::common::basic;
use super::front::{Front, Seen};
use super::run::{Run, command, shorten};
use super::{Plugin, Verdict};
use crate::Env;

/// How a call is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// RBAC forbids the verb on the resource (403).
    Forbidden,
    /// The server answers 404 on the path.
    NotFound,
}

/// One API call in RBAC terms.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Call {
    /// HTTP method.
    pub method: String,
    /// Kubernetes verb (get, list, watch, create, patch, update, delete).
    pub verb: &'static str,
    /// API group ("" for core).
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// Subresource, if any.
    pub subresource: Option<String>,
    /// The request path (for 404s).
    pub path: String,
}

impl Call {
    /// The call a request made, `None` for discovery and other non-resource paths.
    pub fn of(seen: &Seen) -> Option<Call> {
        let parts: Vec<&str> = seen.path.trim_matches('/').split('/').collect();
        let (group, rest) = match parts.as_slice() {
            ["api", "v1", rest @ ..] => (String::new(), rest),
            ["apis", group, _version, rest @ ..] => (group.to_string(), rest),
            _ => return None,
        };
        let rest = match rest {
            ["namespaces", _ns, rest @ ..] if !rest.is_empty() => rest,
            other => other,
        };
        let (resource, name, subresource) = match rest {
            [resource] => (*resource, None, None),
            [resource, name] => (*resource, Some(*name), None),
            [resource, name, sub, ..] => (*resource, Some(*name), Some(sub.to_string())),
            [] => return None,
        };
        let verb = match (seen.method.as_str(), name) {
            ("GET", _) if seen.is_watch() => "watch",
            ("GET", Some(_)) => "get",
            ("GET", None) => "list",
            ("POST", _) => "create",
            ("PATCH", _) => "patch",
            ("PUT", _) => "update",
            ("DELETE", Some(_)) => "delete",
            ("DELETE", None) => "deletecollection",
            _ => return None,
        };
        Some(Call {
            method: seen.method.clone(),
            verb,
            group,
            resource: resource.to_string(),
            subresource,
            path: seen.path.clone(),
        })
    }

    /// The resource as RBAC and kubectl name it: `pods`, `deployments.apps`.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// `verb resource[.group][/subresource]`.
    pub fn label(&self) -> String {
        match &self.subresource {
            Some(sub) => format!("{} {}/{sub}", self.verb, self.qualified()),
            None => format!("{} {}", self.verb, self.qualified()),
        }
    }

    fn forbid_rule(&self) -> ForbidRule {
        ForbidRule {
            verb: self.verb.to_string(),
            resource: self.resource.clone(),
            subresource: self.subresource.clone(),
            group: Some(self.group.clone()),
            namespace: None,
        }
    }
}

/// The distinct calls of `requests` (by verb and resource for 403s, by method and path for 404s).
pub fn distinct_calls(requests: &[Seen], refusal: Refusal) -> Vec<Call> {
    let mut calls: Vec<Call> = requests.iter().filter_map(Call::of).collect();
    calls.sort();
    match refusal {
        Refusal::Forbidden => calls.dedup_by(|a, b| {
            (a.verb, &a.group, &a.resource, &a.subresource)
                == (b.verb, &b.group, &b.resource, &b.subresource)
        }),
        Refusal::NotFound => calls.dedup_by(|a, b| (&a.method, &a.path) == (&b.method, &b.path)),
    }
    calls
}

/// Whether `run`, refused `call`, said so: one error line naming the verb and the resource
/// (exit 3), or (carrying on) a mention of the refused resource in its output.
fn named(run: &Run, call: &Call, refusal: Refusal) -> bool {
    let text = format!("{}\n{}", run.stdout, run.stderr).to_lowercase();
    match (refusal, run.code) {
        (Refusal::Forbidden, 3) => run
            .one_error()
            .is_some_and(|l| l.contains(call.verb) && l.contains(&call.resource)),
        (Refusal::Forbidden, _) => {
            text.contains(&call.qualified()) && (text.contains("forbidden") || text.contains("403"))
        }
        (Refusal::NotFound, code) => (0..=3).contains(&code),
    }
}

/// Records the calls of the plugin's main run, then refuses each in turn on a fresh cluster.
pub async fn refuse_each_call(p: &Plugin, refusal: Refusal) -> Verdict {
    let env = Env::start(p.scenario).await;
    let front = Front::start(&env.cluster).await;
    let kubeconfig = env.dir.path().join("front-kubeconfig");
    front.write_kubeconfig(&kubeconfig);
    let baseline = Run::of(&mut command(
        &env,
        p.binary,
        p.main_run(),
        Some(&kubeconfig),
    ))
    .await;
    let calls = distinct_calls(&front.requests(), refusal);
    drop(front);
    drop(env);
    let mut v = Verdict::new("");
    basic(&mut v, &baseline);
    let mut unnamed = Vec::new();
    let mut exits: Vec<i32> = Vec::new();
    for call in &calls {
        let env = Env::start(p.scenario).await;
        match refusal {
            Refusal::Forbidden => env.cluster.rbac().forbid(call.forbid_rule()),
            Refusal::NotFound => env.cluster.faults().fail_next(
                1_000_000,
                Some(&call.method),
                &call.path,
                FaultAction::Status(404),
            ),
        }
        let run = Run::of(&mut command(&env, p.binary, p.main_run(), None)).await;
        basic(&mut v, &run);
        exits.push(run.code);
        if !named(&run, call, refusal) {
            unnamed.push(format!(
                "{} → {} [stderr: {}]",
                call.label(),
                shorten(&run.summary(), 120),
                shorten(run.stderr.trim(), 300)
            ));
        }
    }
    exits.sort_unstable();
    exits.dedup();
    v.observed = format!(
        "{} calls refused, {} named/handled; exits {exits:?}",
        calls.len(),
        calls.len() - unnamed.len()
    );
    v.expect(!calls.is_empty(), || "the plugin made no API call".into());
    v.expect(unnamed.is_empty(), || {
        format!("refusals not named: {}", unnamed.join("; "))
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(method: &str, path: &str, query: &str) -> Seen {
        Seen {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            authorization: None,
        }
    }

    #[test]
    fn requests_map_to_rbac_calls() {
        let c = Call::of(&seen(
            "GET",
            "/apis/apps/v1/namespaces/gw/deployments/proxy",
            "",
        ))
        .unwrap();
        assert_eq!(
            (c.verb, c.group.as_str(), c.resource.as_str()),
            ("get", "apps", "deployments")
        );
        let c = Call::of(&seen("GET", "/api/v1/namespaces/gw/pods", "watch=true")).unwrap();
        assert_eq!(c.label(), "watch pods");
        let c = Call::of(&seen("GET", "/apis/metrics.k8s.io/v1beta1/pods", "")).unwrap();
        assert_eq!(c.label(), "list pods.metrics.k8s.io");
        let c = Call::of(&seen("POST", "/api/v1/namespaces/gw/pods/p/eviction", "")).unwrap();
        assert_eq!(c.label(), "create pods/eviction");
        let c = Call::of(&seen("GET", "/api/v1/nodes", "")).unwrap();
        assert_eq!(c.label(), "list nodes");
        let c = Call::of(&seen("PATCH", "/api/v1/nodes/n1", "")).unwrap();
        assert_eq!(c.label(), "patch nodes");
        let c = Call::of(&seen("GET", "/api/v1/namespaces/gw", "")).unwrap();
        assert_eq!(c.label(), "get namespaces");
        assert_eq!(Call::of(&seen("GET", "/apis", "")), None);
        assert_eq!(Call::of(&seen("GET", "/version", "")), None);
    }
}
