//! `--logs`: the recent log lines of each component's pods scanned for known failure
//! signatures (runbook 001: xDS stream closed, CSR failed, connection refused to istiod's
//! ClusterIP), each counted and quoted once. A refused address is named as the Service
//! that owns that ClusterIP.

use std::collections::BTreeSet;

use runbook::Finding;
use serde::Serialize;

use crate::fetch::{ContainerLog, Fetched};
use crate::hints;
use crate::view::{ComponentView, GatewayView};

/// A known failure written in logs.
#[derive(Clone, Copy, Debug)]
pub struct Signature {
    /// Short id shown in reports (`connection-refused`).
    pub id: &'static str,
    /// What it means, for messages.
    pub meaning: &'static str,
    /// Lower-case substrings, any of which marks a line.
    pub patterns: &'static [&'static str],
    /// True when it means the component is cut off from what it needs (critical).
    pub critical: bool,
}

/// The signatures looked for, in report order.
pub const SIGNATURES: &[Signature] = &[
    Signature {
        id: "xds-stream-closed",
        meaning: "the xDS configuration stream to the control plane closed",
        patterns: &[
            "config stream closed",
            "xds stream closed",
            "unable to establish new stream",
        ],
        critical: true,
    },
    Signature {
        id: "csr-failed",
        meaning: "certificate signing requests fail",
        patterns: &["csr failed", "failed to create certificate"],
        critical: true,
    },
    Signature {
        id: "connection-refused",
        meaning: "connections are refused",
        patterns: &["connection refused"],
        critical: true,
    },
    Signature {
        id: "webhook-failed",
        meaning: "admission webhook calls fail",
        patterns: &["failed calling webhook"],
        critical: true,
    },
    Signature {
        id: "no-healthy-upstream",
        meaning: "requests find no healthy upstream",
        patterns: &["no healthy upstream"],
        critical: false,
    },
    Signature {
        id: "tls-failure",
        meaning: "TLS handshakes fail",
        patterns: &[
            "tls handshake error",
            "tls: handshake failure",
            "x509: certificate",
        ],
        critical: false,
    },
    Signature {
        id: "overloaded",
        meaning: "the proxy sheds load (its overload manager: memory near the limit)",
        patterns: &["rejecting new connections", "shrinking heap"],
        critical: false,
    },
    Signature {
        id: "panic",
        meaning: "the process panicked",
        patterns: &["panic:", "fatal error:"],
        critical: false,
    },
    Signature {
        id: "out-of-memory",
        meaning: "the process ran out of memory",
        patterns: &["out of memory", "outofmemory"],
        critical: false,
    },
];

/// One signature found in one container's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hit {
    /// The signature's id.
    pub signature: &'static str,
    /// Lines that matched.
    pub count: usize,
    /// The first matching line, trimmed.
    pub sample: String,
    /// `ip:port` after "dial tcp", when the line names one.
    pub target: Option<String>,
}

const SAMPLE_CHARS: usize = 160;

/// Scans a log for every signature: counts and the first line of each.
pub fn scan(text: &str) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    for line in text.lines() {
        let lower = line.to_lowercase();
        for sig in SIGNATURES {
            if !sig.patterns.iter().any(|p| lower.contains(p)) {
                continue;
            }
            match hits.iter_mut().find(|h| h.signature == sig.id) {
                Some(h) => h.count += 1,
                None => hits.push(Hit {
                    signature: sig.id,
                    count: 1,
                    sample: line.trim().chars().take(SAMPLE_CHARS).collect(),
                    target: dial_target(line),
                }),
            }
        }
    }
    hits.sort_by_key(|h| SIGNATURES.iter().position(|s| s.id == h.signature));
    hits
}

/// The `ip:port` of "dial tcp 10.96.5.249:15012".
fn dial_target(line: &str) -> Option<String> {
    let rest = &line[line.find("dial tcp ")? + "dial tcp ".len()..];
    let target: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']' | '-'))
        .collect();
    let target = target.trim_end_matches(':').to_string();
    (!target.is_empty()).then_some(target)
}

/// The Service (`namespace/name`) whose ClusterIP and port are `target` (`ip:port`).
fn service_at<'a>(f: &'a Fetched, target: &str) -> Option<(&'a str, &'a str)> {
    let (ip, port) = target.rsplit_once(':')?;
    let port: i32 = port.parse().ok()?;
    f.services.iter().find_map(|s| {
        let spec = s.spec.as_ref()?;
        let ip_match = spec.cluster_ip.as_deref() == Some(ip)
            || spec.cluster_ips.iter().flatten().any(|i| i == ip);
        let port_match = spec.ports.iter().flatten().any(|p| p.port == port);
        (ip_match && port_match).then(|| {
            (
                s.metadata.namespace.as_deref().unwrap_or_default(),
                s.metadata.name.as_deref().unwrap_or_default(),
            )
        })
    })
}

fn logs_of<'a>(c: &ComponentView<'_>, f: &'a Fetched) -> Vec<&'a ContainerLog> {
    f.logs
        .iter()
        .filter(|l| l.namespace == c.namespace && c.summaries.iter().any(|s| s.name == l.pod))
        .collect()
}

/// Log findings of every component (nothing unless logs were read).
pub fn check(gw: &GatewayView<'_>, f: &Fetched) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in &gw.components {
        let logs = logs_of(c, f);
        let mut merged: Vec<(Hit, BTreeSet<&str>)> = Vec::new();
        for log in &logs {
            match &log.text {
                Ok(text) => {
                    for hit in scan(text) {
                        match merged
                            .iter_mut()
                            .find(|(h, _)| h.signature == hit.signature)
                        {
                            Some((h, pods)) => {
                                h.count += hit.count;
                                pods.insert(&log.pod);
                            }
                            None => merged.push((hit, BTreeSet::from([log.pod.as_str()]))),
                        }
                    }
                }
                Err(reason) => out.push(Finding::info(
                    "logs.unavailable",
                    runbook::findings::subject("pod", &log.namespace, &log.pod),
                    format!(
                        "cannot read the {}log of container {}: {reason}",
                        if log.previous { "previous " } else { "" },
                        log.container
                    ),
                    "",
                )),
            }
        }
        for (hit, pods) in merged {
            out.push(hit_finding(gw, c, f, &hit, pods.len()));
        }
    }
    out
}

fn hit_finding(
    gw: &GatewayView<'_>,
    c: &ComponentView<'_>,
    f: &Fetched,
    hit: &Hit,
    pods: usize,
) -> Finding {
    let sig = SIGNATURES
        .iter()
        .find(|s| s.id == hit.signature)
        .copied()
        .unwrap_or(SIGNATURES[0]);
    let service = hit.target.as_deref().and_then(|t| service_at(f, t));
    let target = match (&hit.target, service) {
        (Some(t), Some((ns, name))) => format!(" to {t} (Service {ns}/{name})"),
        (Some(t), None) => format!(" to {t}"),
        _ => String::new(),
    };
    let message = format!(
        "{} log: {} line(s) in {pods} pod(s): {}{target}: \"{}\"",
        c.name(),
        hit.count,
        sig.meaning,
        hit.sample
    );
    let hint = match service.and_then(|(ns, name)| {
        gw.components.iter().find(|o| {
            o.namespace == ns
                && o.services
                    .iter()
                    .any(|s| s.metadata.name.as_deref() == Some(name))
        })
    }) {
        Some(target) => format!(
            "{} is unreachable though its pods may show Running: restart it onto a healthy node: {}",
            target.name(),
            hints::restart(target)
        ),
        None => format!(
            "read the full log: kubectl logs -n {} deploy/{} --since={}",
            c.namespace,
            c.name(),
            humantime(f.logs_since)
        ),
    };
    if sig.critical {
        Finding::critical("logs.errors", c.subject(), message, hint)
    } else {
        Finding::warning("logs.errors", c.subject(), message, hint)
    }
}

/// `5m`, `90s`, `1h` as kubectl's --since takes it.
fn humantime(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::{World, service};
    use crate::profiles::builtin;
    use crate::view::join;
    use runbook::Severity;

    const INGRESS_LOG: &str = r#"2026-11-05T09:59:01Z warning envoy config StreamAggregatedResources gRPC config stream closed: 14, no healthy upstream
2026-11-05T09:59:02Z warning envoy config Unable to establish new stream
2026-11-05T09:59:03Z warn cache resource:default request:68bf97bc CSR failed with error: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing dial tcp 10.96.5.249:15012: connect: connection refused", retry in 3200 millisec
2026-11-05T09:59:06Z error citadelclient Failed to create certificate: rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing dial tcp 10.96.5.249:15012: connect: connection refused"
2026-11-05T09:59:07Z info all good here
"#;

    #[test]
    fn scan_counts_each_signature_and_quotes_it_once() {
        let hits = scan(INGRESS_LOG);
        let got: Vec<(&str, usize)> = hits.iter().map(|h| (h.signature, h.count)).collect();
        assert_eq!(
            got,
            [
                ("xds-stream-closed", 2),
                ("csr-failed", 2),
                ("connection-refused", 2),
                ("no-healthy-upstream", 1)
            ]
        );
        assert_eq!(hits[2].target.as_deref(), Some("10.96.5.249:15012"));
        assert!(hits[1].sample.contains("CSR failed"));
        assert!(scan("all fine\n").is_empty());
    }

    #[test]
    fn refused_clusterip_is_named_and_its_component_restarted() {
        let mut w = World::new()
            .component("istio-system", "istiod", 1, 1)
            .component("istio-system", "istio-ingressgateway", 1, 1)
            .service(service("istio-system", "istiod", "istiod", &[15012, 443]));
        w.f.logs_since = std::time::Duration::from_secs(300);
        w.f.logs = vec![ContainerLog {
            namespace: "istio-system".into(),
            pod: "istio-ingressgateway-abc-0".into(),
            container: "istio-proxy".into(),
            previous: false,
            text: Ok(INGRESS_LOG.into()),
        }];
        let p = builtin().remove(1);
        let found = check(&join(&w.f, &p, "istio-system"), &w.f);
        assert_eq!(found.len(), 4);
        assert!(
            found
                .iter()
                .all(|f| f.subject == "deployment/istio-system/istio-ingressgateway")
        );
        let refused = found
            .iter()
            .find(|f| f.message.contains("connections are refused"))
            .unwrap();
        assert_eq!(refused.severity, Severity::Critical);
        assert!(
            refused
                .message
                .contains("to 10.96.5.249:15012 (Service istio-system/istiod)"),
            "{}",
            refused.message
        );
        assert_eq!(
            refused.hint,
            "istiod is unreachable though its pods may show Running: restart it onto a healthy node: kubectl gw-resize deploy/istiod -n istio-system --restart"
        );
        let upstream = found
            .iter()
            .find(|f| f.message.contains("requests find no healthy upstream"))
            .unwrap();
        assert_eq!(upstream.severity, Severity::Warning);
        assert!(upstream.hint.ends_with("--since=5m"));
    }
}
