//! `testcluster`: a stateful Kubernetes API server for tests, serving the REST API over plain
//! HTTP on 127.0.0.1, with fault injection, a deny-list RBAC and pluggable controllers.
//!
//! What it serves, as the real API server does (checked with kubectl 1.32 and 1.33):
//! discovery (legacy and aggregated), a minimal `/openapi/v3`, get / list (label and field
//! selectors, `limit`/`continue`) / watch (history replay, 410 Expired, bookmarks) / create /
//! update / patch (merge, JSON, strategic; apply as merge) / delete (graceful for pods) /
//! deletecollection, `dryRun=All`, the status, scale, pods/log and pods/eviction subresources,
//! server-side printing (`as=Table`), metadata-only lists (`as=PartialObjectMetadata`),
//! protobuf bodies of the kinds kubectl's typed clients send ([`protobuf`]), defaulting,
//! quantity canonicalisation and the validation runbooks hit ([`validation`]), and admission
//! webhooks that fail closed (`failurePolicy: Fail` without a ready backend refuses every
//! create and update its rules match, [`controllers::FailingWebhooks`]).
//!
//! Test hooks: [`TestCluster::faults`] (latency, failing requests, dropped watches, and the log
//! of the requests answered, [`faults::Faults::requests`]),
//! [`TestCluster::rbac`] (403s), [`store::Store::logs`] (container logs), all also reachable
//! over HTTP under `/testcluster/` (see [`server`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let cluster = testcluster::TestCluster::start(Vec::new(), None, false).await?;
//! cluster.write_kubeconfig(std::path::Path::new("/tmp/kubeconfig"))?;
//! println!("{}", cluster.url());
//! cluster.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod apply;
pub mod controllers;
pub mod defaults;
pub mod errors;
pub mod eviction;
pub mod faults;
pub mod generator;
pub mod kubeconfig;
pub mod logs;
pub mod patch;
pub mod protobuf;
pub mod quantity;
pub mod rbac;
pub mod resources;
pub mod scenarios;
pub mod selector;
pub mod server;
pub mod store;
pub mod validation;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};

use faults::Faults;
use rbac::Rbac;
use store::Store;

/// The controllers of the cluster, run by [`TestCluster`].
pub trait Reconciler: Send + Sync + 'static {
    /// One pass of every controller; true if anything changed.
    fn step(&self, store: &Store) -> bool;
}

/// How many controller passes [`TestCluster::settle`] runs at most.
const MAX_SETTLE_STEPS: usize = 1000;
/// How often free-running controllers run without a change.
const RECONCILE_EVERY: Duration = Duration::from_millis(50);

/// Namespaces every cluster has.
const BUILT_IN_NAMESPACES: &[&str] = &["default", "kube-node-lease", "kube-public", "kube-system"];

/// A running test API server with its store, faults, deny rules and controllers.
pub struct TestCluster {
    url: String,
    store: Store,
    faults: Faults,
    rbac: Rbac,
    reconciler: Option<Arc<dyn Reconciler>>,
    step_lock: Arc<Mutex<()>>,
    stop: Arc<AtomicBool>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl TestCluster {
    /// Binds 127.0.0.1 on a free port, loads `objects` (created with their status as given,
    /// defaulted like the real server does, their namespaces created if missing) and serves.
    /// `reconciler` runs in the background (after every change and every 50ms) when
    /// `free_running`, else only when [`TestCluster::settle`] is called.
    pub async fn start(
        objects: Vec<Value>,
        reconciler: Option<Arc<dyn Reconciler>>,
        free_running: bool,
    ) -> anyhow::Result<TestCluster> {
        TestCluster::start_on(0, objects, reconciler, free_running).await
    }

    /// [`TestCluster::start`] on a given port (0 = any free port).
    pub async fn start_on(
        port: u16,
        objects: Vec<Value>,
        reconciler: Option<Arc<dyn Reconciler>>,
        free_running: bool,
    ) -> anyhow::Result<TestCluster> {
        let store = Store::new();
        load(&store, objects)?;
        let faults = Faults::default();
        let rbac = Rbac::default();
        let listener =
            std::net::TcpListener::bind(("127.0.0.1", port)).context("binding 127.0.0.1")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = server::App {
            store: store.clone(),
            faults: faults.clone(),
            rbac: rbac.clone(),
        };
        let (shutdown, shutdown_signal) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-cluster")
            .enable_all()
            .build()
            .context("building the server runtime")?;
        let server_thread = std::thread::Builder::new()
            .name("test-cluster-server".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            server::serve(listener, app, async {
                                let _ = shutdown_signal.await;
                            })
                            .await;
                        }
                        Err(err) => eprintln!("test-cluster: cannot serve: {err}"),
                    }
                });
                runtime.shutdown_timeout(Duration::from_millis(200));
            })?;
        let mut cluster = TestCluster {
            url,
            store,
            faults,
            rbac,
            reconciler,
            step_lock: Arc::new(Mutex::new(())),
            stop: Arc::new(AtomicBool::new(false)),
            shutdown: Some(shutdown),
            threads: vec![server_thread],
        };
        if free_running {
            cluster.run_reconciler_in_background()?;
        }
        Ok(cluster)
    }

    fn run_reconciler_in_background(&mut self) -> anyhow::Result<()> {
        let Some(reconciler) = self.reconciler.clone() else {
            return Ok(());
        };
        let store = self.store.clone();
        let stop = Arc::clone(&self.stop);
        let lock = Arc::clone(&self.step_lock);
        let thread = std::thread::Builder::new()
            .name("test-cluster-controllers".into())
            .spawn(move || {
                let mut seen = u64::MAX;
                let mut last_run = Instant::now() - RECONCILE_EVERY;
                while !stop.load(Ordering::Relaxed) {
                    let rv = store.resource_version();
                    if rv != seen || last_run.elapsed() >= RECONCILE_EVERY {
                        seen = rv;
                        last_run = Instant::now();
                        for _ in 0..100 {
                            let _guard = lock.lock().unwrap_or_else(|p| p.into_inner());
                            if stop.load(Ordering::Relaxed) || !reconciler.step(&store) {
                                break;
                            }
                        }
                        seen = seen.max(store.resource_version());
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })?;
        self.threads.push(thread);
        Ok(())
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The object store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs the controllers until nothing changes (at most 1000 passes); returns how many
    /// passes changed something.
    pub fn settle(&self) -> usize {
        let Some(reconciler) = &self.reconciler else {
            return 0;
        };
        let mut changed = 0;
        for _ in 0..MAX_SETTLE_STEPS {
            let _guard = self.step_lock.lock().unwrap_or_else(|p| p.into_inner());
            if !reconciler.step(&self.store) {
                break;
            }
            changed += 1;
        }
        changed
    }

    /// Writes a kubeconfig (cluster, context and user `test-cluster`, namespace `default`).
    pub fn write_kubeconfig(&self, path: &Path) -> anyhow::Result<()> {
        kubeconfig::write(&self.url, path).with_context(|| format!("writing {}", path.display()))
    }

    /// Fault injection and the request log.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Deny rules.
    pub fn rbac(&self) -> &Rbac {
        &self.rbac
    }

    /// Stops the server and the controllers.
    pub async fn shutdown(mut self) {
        let threads = self.stop_threads();
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
    }

    fn stop_threads(&mut self) -> Vec<JoinHandle<()>> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        std::mem::take(&mut self.threads)
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for thread in self.stop_threads() {
            let _ = thread.join();
        }
    }
}

/// Stores `objects` as a real cluster would hold them: built-in namespaces and every namespace
/// the objects use exist, defaults are filled in, quantities are canonical, status is kept.
pub fn load(store: &Store, objects: Vec<Value>) -> anyhow::Result<()> {
    let mut namespaces: Vec<String> = BUILT_IN_NAMESPACES.iter().map(|s| s.to_string()).collect();
    for obj in &objects {
        let ns = store::str_at(obj, "namespace");
        if !ns.is_empty() && !namespaces.iter().any(|n| n == ns) {
            namespaces.push(ns.to_string());
        }
    }
    let declared: Vec<&str> = objects
        .iter()
        .filter(|o| o["kind"] == "Namespace")
        .map(|o| store::str_at(o, "name"))
        .collect();
    let implicit: Vec<Value> = namespaces
        .iter()
        .filter(|ns| !declared.contains(&ns.as_str()))
        .map(|ns| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
        .collect();
    let (mut first, mut rest): (Vec<Value>, Vec<Value>) =
        objects.into_iter().partition(|o| o["kind"] == "Namespace");
    first.extend(implicit);
    first.append(&mut rest);
    for mut obj in first {
        let api_version = obj["apiVersion"].as_str().unwrap_or("").to_string();
        let kind = obj["kind"].as_str().unwrap_or("").to_string();
        let resource = resources::by_kind(&api_version, &kind)
            .with_context(|| format!("the test cluster does not serve {kind} in {api_version}"))?;
        defaults::apply(resource, &mut obj);
        validation::canonicalize_quantities(resource, &mut obj);
        let name = store::str_at(&obj, "name").to_string();
        store
            .create(&resource.store_key(), obj)
            .map_err(|e| anyhow::anyhow!("loading {kind} {name}: {}", e.message))?;
    }
    Ok(())
}
