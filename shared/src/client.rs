//! Connecting to the API server as kubectl would: kubeconfig (with `KUBECONFIG` paths merged),
//! context/cluster/user overrides, in-cluster fallback, `--request-timeout` on every call,
//! bounded retries of reads, and `-v` request logging.
//!
//! Retries (kube's own silent retry is turned off: it re-sends writes after a 503 too):
//! a read (GET, HEAD) answered 500, 502, 503 or 504, or whose connection failed, is sent again
//! up to [`READ_ATTEMPTS`] times with a doubling pause. A write (POST, PUT, PATCH, DELETE) is
//! never sent again after a server error, a dropped connection or a timeout, since it may have
//! been applied; it is re-sent only after a 429, which the API server answers before doing
//! anything, and only when 429s are retried at all ([`connect_with`]). `--request-timeout`
//! bounds a request with all its retries.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
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

/// Like [`connect`]; `retry_429: false` never retries a 429 answer (eviction must see them,
/// see notes/rust-stack.md).
pub async fn connect_with(args: &ConnectArgs, retry_429: bool) -> Result<Connection> {
    if let Some(ns) = &args.namespace {
        check_namespace(ns)?;
    }
    let mut config = load_config(args).await?;
    config.default_retry = false;
    if let Some(server) = &args.server {
        config.cluster_url = server
            .parse()
            .map_err(|e| Error::Usage(format!("invalid --server {server:?}: {e}")))?;
        if !is_server_url(&config.cluster_url) {
            return Err(Error::Usage(format!(
                "invalid --server {server:?}: use an http:// or https:// URL with a host"
            )));
        }
    } else if !is_server_url(&config.cluster_url) {
        return Err(Error::Config(format!(
            "invalid kubeconfig: the cluster's server \"{}\" is not an http:// or https:// URL with a host",
            config.cluster_url
        )));
    }
    if let Some(token) = &args.token {
        if http::HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
            return Err(Error::Usage(
                "invalid --token: it holds characters an HTTP header cannot carry (a line break?)"
                    .into(),
            ));
        }
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
        retry_429,
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

/// Whether `url` can address an API server: an http or https scheme and a host (kube's
/// client panics on anything else).
fn is_server_url(url: &http::Uri) -> bool {
    matches!(url.scheme_str(), Some("http" | "https"))
        && url.authority().is_some_and(|a| !a.host().is_empty())
}

/// Refuses a `-n` the API server would not accept (a DNS-1123 label: at most 63 lowercase
/// letters, digits and '-', starting and ending with a letter or digit) before it becomes part
/// of a request path, where `../x` or `a/b` would address something else.
fn check_namespace(ns: &str) -> Result<()> {
    let valid = !ns.is_empty()
        && ns.len() <= 63
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if valid {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "invalid namespace {ns:?}: a namespace is at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
        )))
    }
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

/// How many times a read is sent at most (the first try and three retries).
pub const READ_ATTEMPTS: u32 = 4;
/// The pause before the first retry; doubled before each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest pause between two tries (also the cap on a 429's Retry-After).
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How one try of a request ended, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TryOutcome {
    /// The server answered with this status.
    Answered(StatusCode),
    /// No answer: the connection could not be made or was dropped.
    NoAnswer,
}

/// Whether a request may be sent again after `outcome`: reads after a server error that may
/// pass or a lost connection; any request after a 429 when `retry_429`. Never a write after
/// a server error or a lost connection: it may have been applied already.
fn may_retry(method: &Method, outcome: TryOutcome, retry_429: bool) -> bool {
    let read = method == Method::GET || method == Method::HEAD;
    match outcome {
        TryOutcome::Answered(StatusCode::TOO_MANY_REQUESTS) => retry_429,
        TryOutcome::Answered(status) => {
            read && matches!(
                status,
                StatusCode::INTERNAL_SERVER_ERROR
                    | StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            )
        }
        TryOutcome::NoAnswer => read,
    }
}

/// The pause before try number `next` (2 for the first retry): 100 ms doubled per retry, or
/// the server's Retry-After when longer, at most [`MAX_BACKOFF`].
fn backoff(next: u32, retry_after: Option<Duration>) -> Duration {
    let doubled = FIRST_BACKOFF.saturating_mul(1 << next.saturating_sub(2).min(16));
    doubled
        .max(retry_after.unwrap_or_default())
        .min(MAX_BACKOFF)
}

/// A copy of `req` to send again (`None` for a streamed body, which cannot be replayed).
fn replay(req: &Request<Body>) -> Option<Request<Body>> {
    let mut copy = Request::new(req.body().try_clone()?);
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    *copy.extensions_mut() = req.extensions().clone();
    Some(copy)
}

/// A read that failed on every try.
#[derive(Debug, thiserror::Error)]
#[error("no answer after {attempts} attempts: {last}")]
pub struct RetriesExhausted {
    /// How many times the request was sent.
    pub attempts: u32,
    /// The failure of the last try.
    #[source]
    pub last: BoxError,
}

/// Tower layer: bounds each request by `--request-timeout`, retries what may be retried, and
/// logs each try with `-v`.
#[derive(Clone, Copy, Debug)]
struct RequestLayer {
    timeout: Option<Duration>,
    verbose: u8,
    retry_429: bool,
}

impl<S> Layer<S> for RequestLayer {
    type Service = RequestService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RequestService {
            inner: Arc::new(tokio::sync::Mutex::new(inner)),
            cfg: *self,
        }
    }
}

/// The service of [`RequestLayer`]. The inner service is shared so that a retry can call it
/// again from the response future.
struct RequestService<S> {
    inner: Arc<tokio::sync::Mutex<S>>,
    cfg: RequestLayer,
}

impl<S, RB> Service<Request<Body>> for RequestService<S>
where
    S: Service<Request<Body>, Response = Response<RB>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    RB: Send + 'static,
{
    type Response = Response<RB>;
    type Error = BoxError;
    type Future = BoxFuture<'static, std::result::Result<Response<RB>, BoxError>>;

    fn poll_ready(
        &mut self,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::result::Result<(), BoxError>> {
        // Readiness of the inner service is awaited per try, in `send_once`.
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let cfg = self.cfg;
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
        Box::pin(send(Arc::clone(&self.inner), cfg, req))
    }
}

/// Sends `req`, again after a retryable outcome, all within `--request-timeout`.
async fn send<S, RB>(
    inner: Arc<tokio::sync::Mutex<S>>,
    cfg: RequestLayer,
    req: Request<Body>,
) -> std::result::Result<Response<RB>, BoxError>
where
    S: Service<Request<Body>, Response = Response<RB>>,
    S::Error: Into<BoxError>,
{
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let deadline = cfg.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut req = req;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let again = replay(&req);
        let start = Instant::now();
        let result = match (deadline, cfg.timeout) {
            (Some(deadline), Some(t)) => {
                match tokio::time::timeout_at(deadline, send_once(&inner, req)).await {
                    Ok(r) => r,
                    Err(_) => Err(Box::new(RequestTimedOut(t)) as BoxError),
                }
            }
            _ => send_once(&inner, req).await,
        };
        if cfg.verbose >= 1 {
            let ms = start.elapsed().as_millis();
            match &result {
                Ok(resp) => eprintln!("{method} {path} {} in {ms} ms", resp.status()),
                Err(e) => eprintln!("{method} {path} failed in {ms} ms: {e}"),
            }
        }
        let outcome = match &result {
            Ok(resp) => TryOutcome::Answered(resp.status()),
            Err(e) if e.is::<RequestTimedOut>() => return result,
            Err(_) => TryOutcome::NoAnswer,
        };
        let retry_after = result.as_ref().ok().and_then(retry_after);
        let pause = backoff(attempt + 1, retry_after);
        let in_time = deadline.is_none_or(|d| tokio::time::Instant::now() + pause < d);
        let retry =
            attempt < READ_ATTEMPTS && in_time && may_retry(&method, outcome, cfg.retry_429);
        let Some(again) = again.filter(|_| retry) else {
            return match result {
                Err(last) if attempt > 1 => Err(Box::new(RetriesExhausted {
                    attempts: attempt,
                    last,
                })),
                other => other,
            };
        };
        if cfg.verbose >= 1 {
            eprintln!(
                "{method} {path}: retrying in {} ms (attempt {} of {READ_ATTEMPTS})",
                pause.as_millis(),
                attempt + 1
            );
        }
        drop(result);
        tokio::time::sleep(pause).await;
        req = again;
    }
}

/// One try: waits for the inner service to be ready, calls it, and awaits the answer.
async fn send_once<S, RB>(
    inner: &tokio::sync::Mutex<S>,
    req: Request<Body>,
) -> std::result::Result<Response<RB>, BoxError>
where
    S: Service<Request<Body>, Response = Response<RB>>,
    S::Error: Into<BoxError>,
{
    let future = {
        let mut service = inner.lock().await;
        futures::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .map_err(Into::into)?;
        service.call(req)
    };
    future.await.map_err(Into::into)
}

/// A 429's Retry-After, in whole seconds as the API server sends it.
fn retry_after<RB>(resp: &Response<RB>) -> Option<Duration> {
    let value = resp.headers().get(http::header::RETRY_AFTER)?;
    let secs: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs))
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
    fn only_reads_are_retried_after_server_errors_and_lost_connections() {
        let unavailable = TryOutcome::Answered(StatusCode::SERVICE_UNAVAILABLE);
        for status in [500, 502, 503, 504] {
            let outcome = TryOutcome::Answered(StatusCode::from_u16(status).unwrap());
            assert!(may_retry(&Method::GET, outcome, false), "GET {status}");
        }
        assert!(may_retry(&Method::GET, TryOutcome::NoAnswer, false));
        assert!(may_retry(&Method::HEAD, unavailable, false));
        for write in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(!may_retry(&write, unavailable, true), "{write} 503");
            assert!(
                !may_retry(&write, TryOutcome::NoAnswer, true),
                "{write} reset"
            );
        }
        for final_answer in [400, 401, 403, 404, 409, 410, 422, 501] {
            let outcome = TryOutcome::Answered(StatusCode::from_u16(final_answer).unwrap());
            assert!(
                !may_retry(&Method::GET, outcome, true),
                "GET {final_answer}"
            );
        }
    }

    #[test]
    fn a_429_is_retried_only_when_429s_are() {
        let throttled = TryOutcome::Answered(StatusCode::TOO_MANY_REQUESTS);
        assert!(may_retry(&Method::POST, throttled, true));
        assert!(may_retry(&Method::GET, throttled, true));
        assert!(!may_retry(&Method::POST, throttled, false));
        assert!(!may_retry(&Method::GET, throttled, false));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(2, None), Duration::from_millis(100));
        assert_eq!(backoff(3, None), Duration::from_millis(200));
        assert_eq!(backoff(4, None), Duration::from_millis(400));
        assert_eq!(backoff(40, None), MAX_BACKOFF);
        assert_eq!(
            backoff(2, Some(Duration::from_secs(1))),
            Duration::from_secs(1)
        );
        assert_eq!(backoff(2, Some(Duration::from_secs(3600))), MAX_BACKOFF);
    }

    #[test]
    fn namespaces_are_checked_before_they_enter_a_path() {
        for good in ["default", "kube-system", "a", "team-1", &"x".repeat(63)] {
            assert!(check_namespace(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "../..",
            "a/b",
            "A",
            "a b",
            "-a",
            "a-",
            "💥",
            "a.b",
            &"x".repeat(64),
        ] {
            let err = check_namespace(bad).expect_err(bad);
            assert_eq!(err.exit_code(), crate::exit::USAGE, "{bad}");
        }
    }

    #[test]
    fn only_http_urls_with_a_host_address_a_server() {
        for good in [
            "http://127.0.0.1:6443",
            "https://kube.example.com",
            "https://[::1]:6443/",
        ] {
            assert!(is_server_url(&good.parse().unwrap()), "{good}");
        }
        for bad in [
            "$(id)",
            "/path",
            "ftp://host",
            "127.0.0.1:6443",
            "http:///x",
        ] {
            let ok = bad.parse::<http::Uri>().is_ok_and(|u| is_server_url(&u));
            assert!(!ok, "{bad}");
        }
    }

    #[tokio::test]
    async fn a_bad_server_or_token_flag_is_a_usage_error_not_a_panic() {
        let path =
            std::env::temp_dir().join(format!("runbook-flags-{}.kubeconfig", std::process::id()));
        testcluster::kubeconfig::write("http://127.0.0.1:1", &path).expect("kubeconfig");
        let kubeconfig = Some(path.display().to_string());
        for (server, token) in [
            (Some("$(id)"), None),
            (Some("ftp://x"), None),
            (None, Some("a\nb")),
        ] {
            let args = ConnectArgs {
                kubeconfig: kubeconfig.clone(),
                server: server.map(str::to_string),
                token: token.map(str::to_string),
                ..Default::default()
            };
            let err = connect(&args).await.err().expect("refused");
            assert_eq!(
                err.exit_code(),
                crate::exit::USAGE,
                "{server:?} {token:?}: {err}"
            );
        }
        let _ = std::fs::remove_file(&path);
    }

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

/// The retry layer against the test API server, counting what reaches the server through its
/// failure rules (a rule's count drops by one per matching request).
#[cfg(test)]
mod retry_tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Api, Patch, PatchParams, PostParams};
    use serde_json::json;
    use testcluster::TestCluster;
    use testcluster::faults::FaultAction;

    const PATH: &str = "/api/v1/namespaces/default/configmaps";

    async fn cluster() -> TestCluster {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "app", "namespace": "default"}, "data": {"k": "v"}});
        TestCluster::start(vec![cm], None, false)
            .await
            .expect("test cluster")
    }

    async fn configmaps(
        cluster: &TestCluster,
        retry_429: bool,
        timeout: Option<Duration>,
    ) -> Api<ConfigMap> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "runbook-retry-{}-{n}.kubeconfig",
            std::process::id()
        ));
        cluster.write_kubeconfig(&path).expect("kubeconfig");
        let args = ConnectArgs {
            kubeconfig: Some(path.display().to_string()),
            request_timeout: crate::flags::RequestTimeout(timeout),
            ..Default::default()
        };
        let conn = connect_with(&args, retry_429).await.expect("connect");
        let _ = std::fs::remove_file(&path);
        Api::namespaced(conn.client, "default")
    }

    /// How many requests a rule of `count` has failed so far.
    fn fired(cluster: &TestCluster, count: usize) -> usize {
        let left: usize = cluster
            .faults()
            .snapshot()
            .failures
            .iter()
            .map(|r| r.count)
            .sum();
        count - left
    }

    #[tokio::test]
    async fn a_read_passes_after_server_errors_and_a_dropped_connection() {
        let cluster = cluster().await;
        let api = configmaps(&cluster, true, None).await;
        cluster
            .faults()
            .fail_next(2, Some("GET"), PATH, FaultAction::Status(503));
        cluster
            .faults()
            .fail_next(1, Some("GET"), PATH, FaultAction::Reset);
        let cm = api.get("app").await.expect("read after retries");
        assert_eq!(cm.data.unwrap()["k"], "v");
        assert!(cluster.faults().snapshot().failures.is_empty());
    }

    #[tokio::test]
    async fn a_read_failing_every_time_gives_up_after_four_attempts() {
        let cluster = cluster().await;
        let api = configmaps(&cluster, true, None).await;
        cluster
            .faults()
            .fail_next(10, Some("GET"), PATH, FaultAction::Status(500));
        let err = api.get("app").await.expect_err("always 500");
        assert!(
            matches!(err, kube::Error::Api(ref s) if s.code == 500),
            "{err}"
        );
        assert_eq!(fired(&cluster, 10), READ_ATTEMPTS as usize);
        cluster.faults().clear();
        cluster
            .faults()
            .fail_next(10, Some("GET"), PATH, FaultAction::Reset);
        let err = api.get("app").await.expect_err("always reset");
        let msg = crate::error::from_kube(err, &crate::Op::new("get", "configmaps")).to_string();
        assert!(msg.contains("no answer after 4 attempts"), "{msg}");
        assert_eq!(fired(&cluster, 10), READ_ATTEMPTS as usize);
    }

    #[tokio::test]
    async fn a_write_is_sent_once_after_a_server_error_or_a_dropped_connection() {
        let cluster = cluster().await;
        let api = configmaps(&cluster, true, None).await;
        let patch = Patch::Merge(json!({"data": {"k": "w"}}));
        cluster
            .faults()
            .fail_next(10, Some("PATCH"), PATH, FaultAction::Status(503));
        api.patch("app", &PatchParams::default(), &patch)
            .await
            .expect_err("503");
        assert_eq!(
            fired(&cluster, 10),
            1,
            "a PATCH answered 503 is not sent again"
        );
        cluster.faults().clear();
        cluster
            .faults()
            .fail_next(10, Some("POST"), PATH, FaultAction::Reset);
        let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "new"}})).unwrap();
        api.create(&PostParams::default(), &cm)
            .await
            .expect_err("reset");
        assert_eq!(
            fired(&cluster, 10),
            1,
            "a POST whose connection dropped is not sent again"
        );
    }

    #[tokio::test]
    async fn a_429_is_sent_again_only_when_429s_are_retried() {
        let cluster = cluster().await;
        let cm: ConfigMap = serde_json::from_value(json!({"metadata": {"name": "new"}})).unwrap();
        let strict = configmaps(&cluster, false, None).await;
        cluster
            .faults()
            .fail_next(1, Some("POST"), PATH, FaultAction::Status(429));
        let err = strict
            .create(&PostParams::default(), &cm)
            .await
            .expect_err("429 seen");
        assert!(
            matches!(err, kube::Error::Api(ref s) if s.code == 429),
            "{err}"
        );
        let lenient = configmaps(&cluster, true, None).await;
        cluster
            .faults()
            .fail_next(1, Some("POST"), PATH, FaultAction::Status(429));
        lenient
            .create(&PostParams::default(), &cm)
            .await
            .expect("created after the 429");
    }

    #[tokio::test]
    async fn request_timeout_bounds_a_request_with_its_retries() {
        let cluster = cluster().await;
        let api = configmaps(&cluster, true, Some(Duration::from_millis(500))).await;
        cluster.faults().set_latency(Duration::from_millis(150));
        cluster
            .faults()
            .fail_next(100, Some("GET"), PATH, FaultAction::Status(503));
        let start = Instant::now();
        let err = api.get("app").await.expect_err("503 until the deadline");
        assert!(
            start.elapsed() < Duration::from_millis(900),
            "{:?}",
            start.elapsed()
        );
        let msg = crate::error::from_kube(err, &crate::Op::new("get", "configmaps")).to_string();
        assert!(
            msg.contains("(--request-timeout)") || msg.contains("503"),
            "{msg}"
        );
        assert!(
            fired(&cluster, 100) <= 3,
            "{} tries within 500ms",
            fired(&cluster, 100)
        );
    }
}
