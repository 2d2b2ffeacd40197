//! `--probe`: connects through a port-forward (the API server's `pods/portforward`, websocket
//! channel protocol) to one ready backing pod per Service port, to tell "the app does not
//! listen" (refused) from "Kubernetes does not route" (connected here, yet the Service fails).
//!
//! How the kubelet answers: it opens the tunnel, dials `localhost:PORT` inside the pod's
//! network namespace and, when the dial fails, writes the error (`connect: connection
//! refused`, `i/o timeout`) on the port's error channel. A dial that succeeds sends nothing.
//! So: an error message decides refused or timed out; bytes from the app, or silence until the
//! timeout, mean connected.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Pod, Service};
use kube::Client;
use kube::api::Api;
use runbook::Finding;
use runbook::findings::subject;
use serde::Serialize;
use tokio::io::AsyncReadExt;

use crate::catalog;
use crate::checks::ports::pod_port;
use crate::checks::{is_ready, pod_name};

/// What the connection attempt showed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "verdict", content = "detail")]
pub enum Verdict {
    /// The app accepted the connection (or the kubelet reported no error within the timeout).
    Connected(String),
    /// Nothing listens on the port in the pod.
    Refused(String),
    /// The dial or the tunnel did not complete in time.
    TimedOut(String),
    /// The port-forward could not be opened (not supported, forbidden...): nothing learnt.
    Failed(String),
}

impl Verdict {
    /// The word printed in the RESULT column.
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Connected(_) => "connected",
            Verdict::Refused(_) => "refused",
            Verdict::TimedOut(_) => "timed out",
            Verdict::Failed(_) => "not probed",
        }
    }

    /// The detail sentence.
    pub fn detail(&self) -> &str {
        match self {
            Verdict::Connected(d)
            | Verdict::Refused(d)
            | Verdict::TimedOut(d)
            | Verdict::Failed(d) => d,
        }
    }
}

/// Maps the kubelet's error-channel message to a verdict.
pub fn classify_error(message: &str) -> Verdict {
    let m = message.to_lowercase();
    let detail = message
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    if m.contains("connection refused") {
        Verdict::Refused(detail)
    } else if m.contains("timeout") || m.contains("timed out") || m.contains("deadline exceeded") {
        Verdict::TimedOut(detail)
    } else {
        Verdict::Failed(detail)
    }
}

/// One probe: which port of which pod, and the verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeResult {
    /// The Service port (`80/TCP`, with its name when it has one).
    pub service_port: String,
    /// The pod probed.
    pub pod: String,
    /// The pod port connected to.
    pub pod_port: i32,
    /// The outcome.
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// A pod port to try: the Service port's label, the pod and the pod port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `http 80/TCP`.
    pub service_port: String,
    /// The pod's name.
    pub pod: String,
    /// Port number on the pod.
    pub port: i32,
}

/// One ready pod per TCP Service port (port-forward carries TCP only); the first ready pod
/// that resolves the port, by name. Ports no ready pod serves are skipped (other checks
/// report them).
pub fn targets(service: &Service, pods: &[&Pod]) -> Vec<Target> {
    let mut ready: Vec<&Pod> = pods
        .iter()
        .copied()
        .filter(|p| is_ready(p) && p.metadata.deletion_timestamp.is_none())
        .collect();
    ready.sort_by_key(|p| pod_name(p).to_string());
    let ports = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or_default();
    ports
        .iter()
        .filter(|p| crate::checks::ports::protocol(p.protocol.as_ref()) == "TCP")
        .filter_map(|p| {
            let (pod, port) = ready
                .iter()
                .find_map(|pod| pod_port(pod, p).map(|n| (*pod, n)))?;
            let label = match p.name.as_deref() {
                Some(n) if !n.is_empty() => format!("{n} {}/TCP", p.port),
                _ => format!("{}/TCP", p.port),
            };
            Some(Target {
                service_port: label,
                pod: pod_name(pod).to_string(),
                port,
            })
        })
        .collect()
}

/// Probes every target, one after the other (one tunnel at a time).
pub async fn run(
    client: &Client,
    namespace: &str,
    targets: &[Target],
    timeout: Duration,
) -> Vec<ProbeResult> {
    let mut results = Vec::with_capacity(targets.len());
    for t in targets {
        let verdict = probe(client, namespace, &t.pod, t.port, timeout).await;
        results.push(ProbeResult {
            service_port: t.service_port.clone(),
            pod: t.pod.clone(),
            pod_port: t.port,
            verdict,
        });
    }
    results
}

/// Opens a port-forward to `pod`:`port` and waits up to `timeout` for the kubelet's verdict.
pub async fn probe(
    client: &Client,
    namespace: &str,
    pod: &str,
    port: i32,
    timeout: Duration,
) -> Verdict {
    let Ok(port) = u16::try_from(port) else {
        return Verdict::Failed(format!("port {port} is not a TCP port number"));
    };
    let api: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let mut forwarder = match tokio::time::timeout(timeout, api.portforward(pod, &[port])).await {
        Err(_) => {
            return Verdict::TimedOut(format!(
                "the port-forward tunnel did not open within {timeout:?}"
            ));
        }
        Ok(Err(e)) => {
            return Verdict::Failed(format!(
                "the API server did not open a port-forward: {}",
                describe_error(&e)
            ));
        }
        Ok(Ok(f)) => f,
    };
    let (Some(mut stream), Some(error)) = (forwarder.take_stream(port), forwarder.take_error(port))
    else {
        forwarder.abort();
        return Verdict::Failed("the port-forward returned no stream for the port".into());
    };
    let mut first = [0u8; 64];
    let verdict = tokio::select! {
        // The kubelet writes a dial error before closing the stream: read it first.
        biased;
        message = error => match message {
            Some(m) => classify_error(&m),
            None => Verdict::Failed("the port-forward closed without a word from the kubelet".into()),
        },
        read = stream.read(&mut first) => match read {
            Ok(n) if n > 0 => Verdict::Connected(format!("connected; the app sent {n} byte(s) first")),
            Ok(_) => Verdict::Failed("the port-forward stream closed at once".into()),
            Err(e) => Verdict::Failed(format!("reading the port-forward stream failed: {e}")),
        },
        () = tokio::time::sleep(timeout) => Verdict::Connected(format!("connected: no error from the kubelet within {timeout:?}")),
    };
    forwarder.abort();
    verdict
}

/// A kube error in a few words: the API status (`404 NotFound: ...`) or the first line.
fn describe_error(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(status) => {
            format!("{} {}: {}", status.code, status.reason, status.message)
        }
        other => other
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}

/// The findings of `--probe` results for `service` in `namespace`.
pub fn findings(namespace: &str, service: &str, results: &[ProbeResult]) -> Vec<Finding> {
    let svc = subject("service", namespace, service);
    results
        .iter()
        .filter_map(|r| {
            let what = format!("--probe of {} on pod {} port {}", r.service_port, r.pod, r.pod_port);
            match &r.verdict {
                Verdict::Connected(_) => None,
                Verdict::Refused(d) => Some(Finding::critical(
                    catalog::PROBE_REFUSED,
                    svc.clone(),
                    format!("{what}: connection refused ({d}): the app does not listen on {}", r.pod_port),
                    format!("make the app listen on {} or point targetPort at the port it listens on: kubectl logs {} -n {namespace}", r.pod_port, r.pod),
                )),
                Verdict::TimedOut(d) => Some(Finding::critical(
                    catalog::PROBE_TIMEOUT,
                    svc.clone(),
                    format!("{what}: no answer ({d})"),
                    "the app or its node is overloaded, or a NetworkPolicy drops the traffic: check the node's load and the pod's CPU (runbook 6.2.3)",
                )),
                Verdict::Failed(d) => Some(Finding::info(
                    catalog::PROBE_FAILED,
                    svc.clone(),
                    format!("{what}: not probed: {d}"),
                    "port-forward needs create on pods/portforward and an API server and kubelet that serve it",
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::tests::pod;
    use serde_json::json;

    #[test]
    fn kubelet_messages_map_to_verdicts() {
        let refused = "error forwarding port 8080 to pod 4f1c, uid : failed to execute portforward in network namespace \"/var/run/netns/cni-1\": failed to connect to localhost:8080 inside namespace \"4f1c\", IPv4: dial tcp4 127.0.0.1:8080: connect: connection refused IPv6 dial tcp6 [::1]:8080: connect: connection refused";
        assert_eq!(classify_error(refused).label(), "refused");
        assert_eq!(
            classify_error("dial tcp4 127.0.0.1:8080: i/o timeout").label(),
            "timed out"
        );
        assert_eq!(
            classify_error("context deadline exceeded").label(),
            "timed out"
        );
        assert_eq!(classify_error("pod not found").label(), "not probed");
    }

    #[test]
    fn findings_follow_verdicts() {
        let r = |v| ProbeResult {
            service_port: "80/TCP".into(),
            pod: "web-1".into(),
            pod_port: 8080,
            verdict: v,
        };
        let f = findings(
            "a",
            "web",
            &[
                r(Verdict::Connected("ok".into())),
                r(Verdict::Refused("x".into())),
                r(Verdict::Failed("404".into())),
            ],
        );
        let ids: Vec<&str> = f.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(ids, [catalog::PROBE_REFUSED, catalog::PROBE_FAILED]);
        assert_eq!(f[0].subject, "service/a/web");
        assert!(f[0].message.contains("does not listen on 8080"));
    }

    #[test]
    fn one_ready_pod_per_tcp_port() {
        let svc: Service = serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": {"ports": [
            {"name": "http", "port": 80, "targetPort": "http"}, {"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "x", "port": 81, "targetPort": "nope"}]}}))
        .unwrap();
        let mut unready = pod("a", "web-0", json!({}));
        unready["status"]["conditions"] = json!([{"type": "Ready", "status": "False"}]);
        let pods: Vec<Pod> = [
            unready,
            pod("a", "web-2", json!({})),
            pod("a", "web-1", json!({})),
        ]
        .into_iter()
        .map(|p| serde_json::from_value(p).unwrap())
        .collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let t = targets(&svc, &refs);
        assert_eq!(
            t,
            [Target {
                service_port: "http 80/TCP".into(),
                pod: "web-1".into(),
                port: 8080
            }]
        );
    }
}
