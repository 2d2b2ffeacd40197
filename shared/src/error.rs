//! The one error type of the suite, and the one place that maps errors to exit codes.

use crate::exit;

/// Everything that can stop a plugin. Each variant prints as one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags or input (exit 64).
    #[error("{0}")]
    Usage(String),
    /// No kubeconfig could be found or loaded (exit 3).
    #[error("{0}")]
    Config(String),
    /// The API server could not be reached (exit 3).
    #[error("cannot reach the API server at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// 401 Unauthorized (exit 3).
    #[error("unauthorised by the API server at {url}: check your credentials (token expired?)")]
    Unauthorized { url: String },
    /// 403 Forbidden: names the verb and resource that were refused (exit 3).
    #[error("forbidden: cannot {verb} {resource}{scope}: {message}")]
    Forbidden {
        verb: String,
        resource: String,
        scope: String,
        message: String,
    },
    /// 404 NotFound, with close names when a list was cheap (exit 3).
    #[error("{kind} \"{name}\" not found{scope}{suggest}")]
    NotFound {
        kind: String,
        name: String,
        scope: String,
        suggest: String,
    },
    /// A request or a wait ran out of time (exit 3 for reads; actions map to 2 via `Failed`).
    #[error("timed out: {0}")]
    Timeout(String),
    /// The object changed meanwhile and could not be re-planned (exit 2).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Any other API error, with the server's own message (exit 3).
    #[error("{0}")]
    Api(String),
    /// The requested action was attempted and failed (exit 2).
    #[error("{0}")]
    Failed(String),
    /// Ctrl-C (exit 130).
    #[error("interrupted{0}")]
    Interrupted(String),
    /// stdout was closed (`| head`): not an error, exit 0 and print nothing.
    #[error("broken pipe")]
    BrokenPipe,
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Error::BrokenPipe
        } else {
            Error::Failed(format!("cannot write output: {e}"))
        }
    }
}

impl Error {
    /// The suite exit code for this error (see the README's table).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Config(_)
            | Error::Unreachable { .. }
            | Error::Unauthorized { .. }
            | Error::Forbidden { .. }
            | Error::NotFound { .. }
            | Error::Timeout(_)
            | Error::Api(_) => exit::CANNOT_CHECK,
            Error::Conflict(_) | Error::Failed(_) => exit::FAILED,
            Error::Interrupted(_) => exit::INTERRUPTED,
            Error::BrokenPipe => exit::OK,
        }
    }

    /// A usage error from any displayable message.
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::Usage(msg.into())
    }

    /// A NotFound error naming close matches among `candidates` (edit distance), if any.
    pub fn not_found<'a>(
        kind: &str,
        name: &str,
        namespace: Option<&str>,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let close = close_names(name, candidates);
        Error::NotFound {
            kind: kind.to_string(),
            name: name.to_string(),
            scope: namespace
                .map(|ns| format!(" in namespace \"{ns}\""))
                .unwrap_or_default(),
            suggest: if close.is_empty() {
                String::new()
            } else {
                format!("; did you mean {}?", close.join(", "))
            },
        }
    }
}

/// Names among `candidates` close to `name`: same prefix or a small edit distance, best first.
pub fn close_names<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| {
            let sim = strsim::jaro_winkler(name, c);
            let bonus = if c.contains(name) || name.contains(c) {
                0.2
            } else {
                0.0
            };
            (sim + bonus, c)
        })
        .filter(|(s, _)| *s >= 0.85)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_string())
        .collect()
}

/// Result alias used across the suite.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_finds_typos_and_prefixes() {
        let names = ["gateway-proxy", "gateway-proxy-canary", "billing", "istiod"];
        let got = close_names("gateway-prxy", names);
        assert_eq!(got.first().map(String::as_str), Some("gateway-proxy"));
        assert!(close_names("zzz", names).is_empty());
    }

    #[test]
    fn every_error_maps_to_a_documented_code() {
        assert_eq!(Error::usage("x").exit_code(), 64);
        assert_eq!(Error::Timeout("x".into()).exit_code(), 3);
        assert_eq!(Error::Failed("x".into()).exit_code(), 2);
        assert_eq!(Error::Interrupted(String::new()).exit_code(), 130);
        let nf = Error::not_found("deployment", "gw", Some("ns"), ["gw1"]);
        assert_eq!(nf.exit_code(), 3);
        assert_eq!(
            nf.to_string(),
            "deployment \"gw\" not found in namespace \"ns\"; did you mean gw1?"
        );
    }
}

/// What a request was doing, so an API error can say which verb on which resource failed.
#[derive(Clone, Debug)]
pub struct Op {
    /// The Kubernetes verb: get, list, watch, patch, create, delete, update.
    pub verb: &'static str,
    /// The resource as RBAC names it: `pods`, `deployments.apps`, `pods/eviction`.
    pub resource: String,
    /// The namespace, if namespaced.
    pub namespace: Option<String>,
    /// The object name, if one.
    pub name: Option<String>,
}

impl Op {
    /// An operation on `resource` (RBAC name, e.g. `deployments.apps`).
    pub fn new(verb: &'static str, resource: impl Into<String>) -> Self {
        Op {
            verb,
            resource: resource.into(),
            namespace: None,
            name: None,
        }
    }

    /// In namespace `ns`.
    pub fn ns(mut self, ns: impl Into<String>) -> Self {
        self.namespace = Some(ns.into());
        self
    }

    /// On the object `name`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    fn scope(&self) -> String {
        match &self.namespace {
            Some(ns) => format!(" in namespace \"{ns}\""),
            None => String::new(),
        }
    }

    /// The kind word used in NotFound messages (`deployments.apps` → `deployment`).
    fn kind_word(&self) -> String {
        let base = self.resource.split(['.', '/']).next().unwrap_or_default();
        base.strip_suffix("ies")
            .map(|s| format!("{s}y"))
            .or_else(|| base.strip_suffix("sses").map(|s| format!("{s}ss")))
            .or_else(|| base.strip_suffix('s').map(str::to_string))
            .unwrap_or_else(|| base.to_string())
    }
}

/// Turns a kube error into the suite's one-line error, naming the operation.
pub fn from_kube(err: kube::Error, op: &Op) -> Error {
    let url = crate::client::server_url().to_string();
    match err {
        kube::Error::Api(status) => {
            let message = status.message.clone();
            match status.code {
                401 => Error::Unauthorized { url },
                403 => Error::Forbidden {
                    verb: op.verb.to_string(),
                    resource: op.resource.clone(),
                    scope: op.scope(),
                    message,
                },
                404 => Error::NotFound {
                    kind: op.kind_word(),
                    name: op.name.clone().unwrap_or_else(|| op.resource.clone()),
                    scope: op.scope(),
                    suggest: String::new(),
                },
                409 => Error::Conflict(message),
                408 | 504 => Error::Timeout(format!("{} {}: {message}", op.verb, op.resource)),
                code => Error::Api(format!(
                    "{} {}{} failed: {message} ({code} {})",
                    op.verb,
                    op.resource,
                    op.scope(),
                    status.reason
                )),
            }
        }
        other => {
            if let Some(t) = find_source::<crate::client::RequestTimedOut>(&other) {
                return Error::Timeout(format!(
                    "{} {}{}: no answer from {url} within {:?} (--request-timeout)",
                    op.verb,
                    op.resource,
                    op.scope(),
                    t.0
                ));
            }
            let chain = error_chain(&other);
            let lower = chain.to_lowercase();
            if lower.contains("certificate") || lower.contains("tls") {
                Error::Unreachable {
                    url,
                    reason: format!("TLS failure: {chain}"),
                }
            } else if lower.contains("connect")
                || lower.contains("connection")
                || lower.contains("dns")
                || lower.contains("hyper")
                || lower.contains("timed out")
            {
                Error::Unreachable { url, reason: chain }
            } else {
                Error::Api(format!(
                    "{} {}{}: {chain}",
                    op.verb,
                    op.resource,
                    op.scope()
                ))
            }
        }
    }
}

fn find_source<'a, T: std::error::Error + 'static>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(t) = e.downcast_ref::<T>() {
            return Some(t);
        }
        cur = e.source();
    }
    None
}

/// An error and its sources on one line, without repeats.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        let s = e.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ").replace('\n', " ")
}

/// `.during(op)` on kube results: map the error to the suite's error for that operation.
pub trait KubeResultExt<T> {
    /// Maps a kube error, naming `op` in the message.
    fn during(self, op: Op) -> Result<T>;
}

impl<T> KubeResultExt<T> for std::result::Result<T, kube::Error> {
    fn during(self, op: Op) -> Result<T> {
        self.map_err(|e| from_kube(e, &op))
    }
}

#[cfg(test)]
mod kube_error_tests {
    use super::*;

    fn status(code: u16, reason: &str, message: &str) -> kube::Error {
        let mut s = kube::core::Status::failure(message, reason);
        s.code = code;
        kube::Error::Api(Box::new(s))
    }

    #[test]
    fn forbidden_names_verb_and_resource() {
        let op = Op::new("list", "pods").ns("gateway");
        let e = from_kube(
            status(
                403,
                "Forbidden",
                "pods is forbidden: User \"bob\" cannot list resource \"pods\"",
            ),
            &op,
        );
        assert_eq!(e.exit_code(), 3);
        let msg = e.to_string();
        assert!(
            msg.starts_with("forbidden: cannot list pods in namespace \"gateway\""),
            "{msg}"
        );
    }

    #[test]
    fn not_found_and_conflict() {
        let op = Op::new("get", "deployments.apps").ns("gw").name("proxy");
        let e = from_kube(status(404, "NotFound", "not found"), &op);
        assert_eq!(
            e.to_string(),
            "deployment \"proxy\" not found in namespace \"gw\""
        );
        let e = from_kube(status(409, "Conflict", "the object has been modified"), &op);
        assert_eq!(e.exit_code(), 2);
    }
}
