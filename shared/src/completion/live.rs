//! Live names from the cluster for completion: one connection made on first use, every call
//! bounded by one shared deadline, and any failure (no kubeconfig, unreachable, forbidden,
//! too slow) giving no names rather than an error: a shell must never print one.

use std::fmt::Debug;
use std::time::Duration;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Node, Service};
use kube::api::{Api, ListParams};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;
use tokio::time::{Instant, timeout_at};

use crate::client::Connection;
use crate::flags::{ConnectArgs, RequestTimeout};

use super::protocol::Request;

/// How long completion may wait for the cluster in all.
pub const LIVE_BUDGET: Duration = Duration::from_secs(1);

/// At most this many names per list (a shell cannot show more usefully).
const LIST_LIMIT: u32 = 500;

/// The cluster as completion sees it: connection flags from the line, a deadline.
pub struct Live {
    args: ConnectArgs,
    deadline: Instant,
    connection: OnceCell<Option<Connection>>,
}

impl Live {
    /// Live lookups with the connection flags typed on the line, all finished within `budget`.
    pub fn new(mut args: ConnectArgs, budget: Duration) -> Live {
        args.request_timeout = RequestTimeout(Some(budget));
        args.verbose = 0;
        Live {
            args,
            deadline: Instant::now() + budget,
            connection: OnceCell::new(),
        }
    }

    async fn connection(&self) -> Option<&Connection> {
        self.connection
            .get_or_init(|| async {
                timeout_at(self.deadline, crate::client::connect(&self.args))
                    .await
                    .ok()?
                    .ok()
            })
            .await
            .as_ref()
    }

    /// The namespace a command would use: `-n`, else the context's (read from the kubeconfig,
    /// without a request).
    pub async fn namespace(&self) -> Option<String> {
        match &self.args.namespace {
            Some(ns) => Some(ns.clone()),
            None => self.connection().await.map(|c| c.namespace.clone()),
        }
    }

    async fn list<K>(&self, api: impl FnOnce(kube::Client) -> Api<K>) -> Vec<String>
    where
        K: Resource + Clone + DeserializeOwned + Debug,
    {
        let Some(conn) = self.connection().await else {
            return Vec::new();
        };
        let params = ListParams::default().limit(LIST_LIMIT);
        let api = api(conn.client.clone());
        match timeout_at(self.deadline, api.list_metadata(&params)).await {
            Ok(Ok(list)) => {
                let mut names: Vec<String> = list.items.iter().map(|o| o.name_any()).collect();
                names.sort();
                names
            }
            _ => Vec::new(),
        }
    }

    async fn namespaced<K>(&self, namespace: Option<&str>) -> Vec<String>
    where
        K: Resource<Scope = NamespaceResourceScope> + Clone + DeserializeOwned + Debug,
        K::DynamicType: Default,
    {
        let ns = match namespace {
            Some(ns) => ns.to_string(),
            None => match self.namespace().await {
                Some(ns) => ns,
                None => return Vec::new(),
            },
        };
        self.list(|client| Api::<K>::namespaced(client, &ns)).await
    }

    /// Names of the cluster's namespaces.
    pub async fn namespaces(&self) -> Vec<String> {
        self.list(Api::<Namespace>::all).await
    }

    /// Names of the cluster's nodes.
    pub async fn nodes(&self) -> Vec<String> {
        self.list(Api::<Node>::all).await
    }

    /// Names of the Deployments in `namespace` (`None`: the namespace in effect).
    pub async fn deployments(&self, namespace: Option<&str>) -> Vec<String> {
        self.namespaced::<Deployment>(namespace).await
    }

    /// Names of the StatefulSets in `namespace` (`None`: the namespace in effect).
    pub async fn statefulsets(&self, namespace: Option<&str>) -> Vec<String> {
        self.namespaced::<StatefulSet>(namespace).await
    }

    /// Names of the Services in `namespace` (`None`: the namespace in effect).
    pub async fn services(&self, namespace: Option<&str>) -> Vec<String> {
        self.namespaced::<Service>(namespace).await
    }
}

/// The connection flags typed on the completion line (the same ids as [`ConnectArgs`]'s
/// fields), so live names come from the cluster and namespace the command would use.
pub fn connect_args(request: &Request) -> ConnectArgs {
    let value = |id: &str| request.flag(id).map(str::to_string);
    ConnectArgs {
        kubeconfig: value("kubeconfig"),
        context: value("context"),
        cluster: value("cluster"),
        user: value("user"),
        server: value("server"),
        token: value("token"),
        as_user: value("as_user"),
        as_group: request
            .flags
            .iter()
            .filter(|(k, _)| k == "as_group")
            .map(|(_, v)| v.clone())
            .collect(),
        insecure_skip_tls_verify: request.flag("insecure_skip_tls_verify") == Some("true"),
        namespace: value("namespace"),
        ..ConnectArgs::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_come_from_the_cluster_of_the_kubeconfig() {
        let cluster = testcluster::scenarios::start("gateway-oom", false)
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        cluster.write_kubeconfig(&kubeconfig).unwrap();
        let args = ConnectArgs {
            kubeconfig: Some(kubeconfig.display().to_string()),
            ..ConnectArgs::default()
        };
        let live = Live::new(args, Duration::from_secs(5));
        assert_eq!(live.namespace().await.as_deref(), Some("default"));
        assert_eq!(live.deployments(Some("gateway")).await, ["gateway-proxy"]);
        assert!(live.namespaces().await.contains(&"gateway".to_string()));
        assert_eq!(live.nodes().await, ["node-1", "node-2", "node-3"]);
    }

    #[test]
    fn connection_flags_come_from_the_line() {
        let mut cmd = <Demo as clap::CommandFactory>::command();
        cmd.build();
        let words: Vec<String> = [
            "--kubeconfig",
            "/k",
            "--context=prod",
            "-n",
            "gw",
            "--as-group",
            "a",
            "--as-group",
            "b",
            "--insecure-skip-tls-verify",
            "",
        ]
        .iter()
        .map(|w| w.to_string())
        .collect();
        let args = connect_args(&crate::completion::protocol::parse_request(&cmd, &words));
        assert_eq!(args.kubeconfig.as_deref(), Some("/k"));
        assert_eq!(args.context.as_deref(), Some("prod"));
        assert_eq!(args.namespace.as_deref(), Some("gw"));
        assert_eq!(args.as_group, ["a", "b"]);
        assert!(args.insecure_skip_tls_verify);
        assert_eq!(args.server, None);
    }

    #[derive(clap::Parser)]
    struct Demo {
        #[command(flatten)]
        connect: ConnectArgs,
    }

    #[tokio::test]
    async fn an_unusable_kubeconfig_gives_no_names_and_no_error() {
        let args = ConnectArgs {
            kubeconfig: Some("/nonexistent/kubeconfig".into()),
            ..ConnectArgs::default()
        };
        let live = Live::new(args, Duration::from_millis(300));
        assert!(live.namespaces().await.is_empty());
        assert!(live.deployments(None).await.is_empty());
        assert_eq!(live.namespace().await, None);
    }

    #[tokio::test]
    async fn an_unreachable_server_gives_up_within_the_budget() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let args = ConnectArgs {
            server: Some(url),
            namespace: Some("gw".into()),
            ..ConnectArgs::default()
        };
        let started = std::time::Instant::now();
        let live = Live::new(args, Duration::from_millis(500));
        assert!(live.deployments(None).await.is_empty());
        assert!(started.elapsed() < Duration::from_secs(3));
        assert_eq!(live.namespace().await.as_deref(), Some("gw"));
    }
}
