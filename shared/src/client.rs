//! Connecting to the API server as kubectl would: kubeconfig (with `KUBECONFIG` paths merged),
//! context/cluster/user overrides, in-cluster fallback, `--request-timeout` on every call, and
//! `-v` request logging.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use http::{Request, Response};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use tower::{BoxError, Layer, Service};

use crate::error::{Error, Result};
use crate::flags::ConnectArgs;

/// A connected client with the namespace the command works in.
#[derive(Clone)]
pub struct Connection {
    /// The kube client (with timeout and logging layers).
    pub client: Client,
    /// `-n`, else the context's namespace, else `default`.
    pub namespace: String,
    /// The API server URL, for messages.
    pub server: String,
}

static SERVER_URL: OnceLock<String> = OnceLock::new();

/// The URL of the API server the process connected to (for error messages).
pub fn server_url() -> &'static str {
    SERVER_URL
        .get()
        .map(String::as_str)
        .unwrap_or("the API server")
}

/// Builds the client from the flags. Errors are one line each (exit 3).
pub async fn connect(args: &ConnectArgs) -> Result<Connection> {
    connect_with(args, true).await
}

/// Like [`connect`]; `retry_429: false` turns off kube's silent retry of 429 answers
/// (eviction must see them, see notes/rust-stack.md).
pub async fn connect_with(args: &ConnectArgs, retry_429: bool) -> Result<Connection> {
    let mut config = load_config(args).await?;
    config.default_retry = retry_429;
    if let Some(server) = &args.server {
        config.cluster_url = server
            .parse()
            .map_err(|e| Error::Usage(format!("invalid --server {server:?}: {e}")))?;
    }
    if let Some(token) = &args.token {
        config.auth_info.token = Some(token.clone().into());
        config.auth_info.token_file = None;
    }
    if let Some(user) = &args.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !args.as_group.is_empty() {
        config.auth_info.impersonate_groups = Some(args.as_group.clone());
    }
    if args.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    if let Some(t) = args.request_timeout.0 {
        config.connect_timeout = Some(t);
    }
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| config.default_namespace.clone());
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let _ = SERVER_URL.set(server.clone());
    let layer = RequestLayer {
        timeout: args.request_timeout.0,
        verbose: args.verbose,
    };
    let client = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| Error::Config(format!("cannot build a client for {server}: {e}")))?
        .with_layer(&layer)
        .build();
    Ok(Connection {
        client,
        namespace,
        server,
    })
}

async fn load_config(args: &ConnectArgs) -> Result<Config> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
    };
    let kubeconfig = match &args.kubeconfig {
        Some(path) => Some(Kubeconfig::read_from(path).map_err(|e| {
            Error::Config(format!("cannot read kubeconfig {path}: {}", first_line(&e)))
        })?),
        None => match Kubeconfig::read() {
            Ok(k) => Some(k),
            Err(e) => {
                let from_env = std::env::var_os("KUBECONFIG").is_some_and(|v| !v.is_empty());
                if from_env {
                    return Err(Error::Config(format!(
                        "cannot read kubeconfig from $KUBECONFIG: {}",
                        first_line(&e)
                    )));
                }
                None
            }
        },
    };
    match kubeconfig {
        Some(kc) => {
            if let Some(ctx) = &args.context
                && !kc.contexts.iter().any(|c| &c.name == ctx)
            {
                let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
                return Err(Error::Config(format!(
                    "context \"{ctx}\" not found in kubeconfig (contexts: {})",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                )));
            }
            Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| Error::Config(format!("invalid kubeconfig: {}", first_line(&e))))
        }
        None => Config::incluster().map_err(|_| {
            Error::Config(
                "no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config"
                    .into(),
            )
        }),
    }
}

fn first_line(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg = format!("{msg}: {text}");
        }
        src = s.source();
    }
    msg.lines().next().unwrap_or_default().to_string()
}

/// The `--request-timeout` bound hit by one request.
#[derive(Debug, thiserror::Error)]
#[error("request did not complete within {0:?} (--request-timeout)")]
pub struct RequestTimedOut(pub Duration);

/// Tower layer: bounds each request by `--request-timeout` and logs it with `-v`.
#[derive(Clone, Copy, Debug)]
struct RequestLayer {
    timeout: Option<Duration>,
    verbose: u8,
}

impl<S> Layer<S> for RequestLayer {
    type Service = RequestService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequestService { inner, cfg: *self }
    }
}

#[derive(Clone)]
struct RequestService<S> {
    inner: S,
    cfg: RequestLayer,
}

impl<S, B, RB> Service<Request<B>> for RequestService<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
{
    type Response = Response<RB>;
    type Error = BoxError;
    type Future = BoxFuture<'static, std::result::Result<Response<RB>, BoxError>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let cfg = self.cfg;
        let method = req.method().clone();
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default();
        if cfg.verbose >= 2 {
            for (name, value) in req.headers() {
                let shown = if is_secret_header(name.as_str()) {
                    "<redacted>".to_string()
                } else {
                    value.to_str().unwrap_or("<binary>").to_string()
                };
                eprintln!("    > {name}: {shown}");
            }
        }
        let fut = self.inner.call(req);
        Box::pin(async move {
            let start = Instant::now();
            let result = match cfg.timeout {
                Some(t) => match tokio::time::timeout(t, fut).await {
                    Ok(r) => r.map_err(Into::into),
                    Err(_) => Err(Box::new(RequestTimedOut(t)) as BoxError),
                },
                None => fut.await.map_err(Into::into),
            };
            if cfg.verbose >= 1 {
                let ms = start.elapsed().as_millis();
                match &result {
                    Ok(resp) => eprintln!("{method} {path} {} in {ms} ms", resp.status()),
                    Err(e) => eprintln!("{method} {path} failed in {ms} ms: {e}"),
                }
            }
            result
        })
    }
}

/// Headers never printed by `-vv`.
fn is_secret_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization")
        || name.eq_ignore_ascii_case("proxy-authorization")
        || name.eq_ignore_ascii_case("cookie")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_is_secret() {
        assert!(is_secret_header("Authorization"));
        assert!(!is_secret_header("accept"));
    }

    #[tokio::test]
    async fn missing_kubeconfig_is_one_clear_line() {
        let args = ConnectArgs {
            kubeconfig: Some("/nonexistent/kubeconfig".into()),
            ..Default::default()
        };
        let err = connect(&args).await.err().expect("must fail");
        assert_eq!(err.exit_code(), crate::exit::CANNOT_CHECK);
        let msg = err.to_string();
        assert!(
            msg.starts_with("cannot read kubeconfig /nonexistent/kubeconfig"),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
    }
}
