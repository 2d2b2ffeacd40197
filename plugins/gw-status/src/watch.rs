//! `--watch`: print the report, then print it again each time a Deployment, pod or event of
//! the gateway namespaces (or a Gateway API object) changes. Changes come from watches, not
//! polling; a burst of changes within [`SETTLE`] gives one refresh.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::stream::{BoxStream, StreamExt, select_all};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use runbook::Result;
use runbook::client::Connection;
use runbook::findings::exit_code_for;

use crate::cli::Cli;
use crate::profiles::{Profile, Target};

/// How long to wait for a burst of changes to end before refreshing.
pub const SETTLE: Duration = Duration::from_millis(300);

/// True for watch events that mean something changed (not the initial listing).
fn is_change<K>(e: &watcher::Event<K>) -> bool {
    matches!(e, watcher::Event::Apply(_) | watcher::Event::Delete(_))
}

fn changes<K>(api: Api<K>) -> BoxStream<'static, ()>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    watcher(api, watcher::Config::default())
        .default_backoff()
        .filter_map(|e| async move { e.ok().filter(is_change).map(|_| ()) })
        .boxed()
}

fn gateway_api_changes(client: &Client, kind: &str, plural: &str) -> BoxStream<'static, ()> {
    let resource = ApiResource {
        group: "gateway.networking.k8s.io".into(),
        version: "v1".into(),
        api_version: "gateway.networking.k8s.io/v1".into(),
        kind: kind.into(),
        plural: plural.into(),
    };
    changes(Api::<DynamicObject>::all_with(client.clone(), &resource))
}

/// One stream yielding `()` per change of the objects the report is made of.
fn change_stream(
    client: &Client,
    namespaces: &BTreeSet<String>,
    gateway_api: bool,
) -> BoxStream<'static, ()> {
    let mut streams: Vec<BoxStream<'static, ()>> = Vec::new();
    for ns in namespaces {
        streams.push(changes(Api::<Deployment>::namespaced(client.clone(), ns)));
        streams.push(changes(Api::<Pod>::namespaced(client.clone(), ns)));
        streams.push(changes(Api::<Event>::namespaced(client.clone(), ns)));
    }
    if gateway_api {
        streams.push(gateway_api_changes(client, "Gateway", "gateways"));
        streams.push(gateway_api_changes(client, "HTTPRoute", "httproutes"));
    }
    select_all(streams).boxed()
}

/// Prints the report, then again after every change, until interrupted (exit 130) or the
/// watches end (exit code of the last report).
pub async fn run(conn: &Connection, cli: &Cli, target: &Target, user: &[Profile]) -> Result<u8> {
    let mut report = crate::inspect(&conn.client, cli, target, user, &conn.namespace).await?;
    crate::write_output(&mut std::io::stdout().lock(), cli, &report)?;
    let namespaces: BTreeSet<String> = report
        .gateways
        .iter()
        .map(|g| g.namespace.clone())
        .collect();
    let mut stream = change_stream(&conn.client, &namespaces, !report.gateway_api.is_empty());
    while stream.next().await.is_some() {
        let settle = tokio::time::sleep(SETTLE);
        tokio::pin!(settle);
        loop {
            tokio::select! {
                _ = &mut settle => break,
                more = stream.next() => if more.is_none() { break },
            }
        }
        match crate::inspect(&conn.client, cli, target, user, &conn.namespace).await {
            Ok(r) => {
                report = r;
                let mut out = std::io::stdout().lock();
                if cli.output.output.is_table() {
                    use std::io::Write;
                    writeln!(
                        out,
                        "\n--- {} ---",
                        jiff::Timestamp::now().strftime("%H:%M:%S")
                    )?;
                }
                crate::write_output(&mut out, cli, &report)?;
            }
            Err(e) => eprintln!("error: {e} (still watching)"),
        }
    }
    Ok(exit_code_for(
        &report.findings,
        cli.report.fail_on,
        cli.report.exit_zero,
    ))
}
