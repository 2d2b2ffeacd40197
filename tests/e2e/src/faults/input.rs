//! Bad input: every flag that takes a value fed malformed, empty, huge and hostile values.
//! A malformed value exits 64; a well-formed name that does not exist exits 3; nothing panics,
//! hangs, or fails without exactly one error line.

use std::sync::Arc;

use super::common::basic;
use super::run::{Run, command, shorten};
use super::{Plugin, Verdict};
use crate::Env;

/// What a bad value must lead to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Exit 64: the value cannot be right.
    Usage,
    /// Exit 64, or 3 when the name is well formed but names nothing.
    UsageOrNotFound,
    /// Any documented exit code (the value may be valid): only no panic, no hang, one error
    /// line on failure.
    Survive,
}

/// A flag (or the positional argument) and the values it is fed.
pub struct Flag {
    /// The flag (`--memory`), or "" for the positional target.
    pub flag: &'static str,
    /// Arguments that make a valid run around the flag (the positional value goes last).
    pub base: &'static [&'static str],
    /// A value that works, to prove the base run is valid.
    pub good: &'static str,
    /// The bad values and what each must lead to.
    pub bad: Vec<(String, Expect)>,
}

impl Flag {
    /// The arguments with `value` for this flag.
    fn args(&self, value: &str) -> Vec<String> {
        let mut args: Vec<String> = self.base.iter().map(|s| s.to_string()).collect();
        if self.flag.is_empty() {
            args.push(value.to_string());
        } else {
            args.push(format!("{}={value}", self.flag));
        }
        args
    }
}

/// A long run of digits (a huge number).
fn huge_number() -> String {
    "9".repeat(5000)
}

/// Values that are no valid anything, for every flag.
fn hostile() -> Vec<String> {
    [
        "💥",
        "$(id)",
        "'\"`;|&",
        "\u{202e}txt.exe",
        "%s%n%x",
        "\\\\",
        "a\tb",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("{}Q", huge_number())])
    .collect()
}

fn values(list: &[&str], expect: Expect) -> Vec<(String, Expect)> {
    list.iter().map(|s| (s.to_string(), expect)).collect()
}

fn with_hostile(mut bad: Vec<(String, Expect)>, expect: Expect) -> Vec<(String, Expect)> {
    bad.extend(hostile().into_iter().map(|v| (v, expect)));
    bad
}

/// Malformed quantities and relative edits.
fn quantities() -> Vec<(String, Expect)> {
    let mut bad = values(
        &[
            "",
            "+",
            "-",
            "x",
            "%",
            "Gi",
            "1.5.5Gi",
            "x1e308",
            "0x10",
            "1 Gi",
            "--1",
            "NaN",
            "inf",
            "x0",
            "0%",
            "1Zi",
            "½Gi",
            "1e",
            "x-2",
            "+-1Mi",
            "-100000Ei",
        ],
        Expect::Usage,
    );
    bad.extend(values(
        &[
            "99999999999999999999999999Ei",
            "+99999999999999999999Ei",
            "100000000000%",
        ],
        Expect::Survive,
    ));
    bad.push((huge_number(), Expect::Survive));
    with_hostile(bad, Expect::Usage)
}

/// Malformed durations.
fn durations() -> Vec<(String, Expect)> {
    let bad = values(
        &[
            "",
            "-1s",
            "1e9h",
            "5 m",
            "abc",
            "1.5.5s",
            "s",
            "1y",
            "99999999999999999999h",
            "0x10s",
        ],
        Expect::Usage,
    );
    let mut bad = with_hostile(bad, Expect::Usage);
    bad.push((format!("{}s", huge_number()), Expect::Usage));
    bad
}

/// Malformed output formats and jsonpath templates.
fn outputs() -> Vec<(String, Expect)> {
    let mut bad = values(
        &[
            "xml",
            "jsonpath=",
            "jsonpath={.items[",
            "jsonpath={{}}",
            "jsonpath={.a}{end}",
            "go-template={{.}}",
            "custom-columns=X:.y",
        ],
        Expect::Usage,
    );
    // kubectl takes "" as the default format and text outside braces as literal text.
    bad.extend(values(&["", "jsonpath={range .x}"], Expect::Survive));
    bad.push((format!("jsonpath={}", "{".repeat(5000)), Expect::Usage));
    bad.push((format!("jsonpath={}", "[".repeat(5000)), Expect::Survive));
    with_hostile(bad, Expect::Usage)
}

/// Odd object names: a name Kubernetes cannot hold (not a DNS-1123 name) exits 64 before any
/// request is built from it; a well-formed name that names nothing exits 3.
fn names() -> Vec<(String, Expect)> {
    let bad = values(
        &[
            "",
            "../../etc/passwd",
            "a b",
            "UPPER",
            "deploy/",
            "/",
            "a/b/c",
            "%2e%2e",
            "-",
            ".",
            "..",
            "a?b=c",
            "a#b",
        ],
        Expect::Usage,
    );
    let mut bad = with_hostile(bad, Expect::Usage);
    bad.push(("x".repeat(300), Expect::Usage));
    bad.push(("no-such-thing".into(), Expect::UsageOrNotFound));
    bad
}

/// Namespaces: anything not a DNS-1123 label exits 64; a well-formed unknown one leads to
/// `unknown`.
fn namespaces(unknown: Expect) -> Vec<(String, Expect)> {
    let mut bad = values(
        &[
            "",
            "../..",
            "a b",
            "UPPER",
            "kube-system/../default",
            "a/b",
            "-a",
            "a.b",
        ],
        Expect::Usage,
    );
    bad.push(("x".repeat(64), Expect::Usage));
    bad.push(("no-such-namespace".into(), unknown));
    with_hostile(bad, Expect::Usage)
}

/// Malformed label selectors ("" selects everything, as in kubectl).
fn selectors() -> Vec<(String, Expect)> {
    let mut bad = values(
        &[
            "a=b,(", "!!=", "a in (b", "=x", "a==b==c", "a=b=c", ",", "a!",
        ],
        Expect::Usage,
    );
    bad.push(("".into(), Expect::Survive));
    bad.push((format!("{}=y", "x".repeat(5000)), Expect::Usage));
    with_hostile(bad, Expect::Usage)
}

/// Malformed whole numbers.
fn numbers(extra: &[&str]) -> Vec<(String, Expect)> {
    let mut list = vec!["", "x", "1.5", "0x10", "99999999999999999999999"];
    list.extend_from_slice(extra);
    with_hostile(values(&list, Expect::Usage), Expect::Usage)
}

/// The connection flags every plugin shares, around `base`.
/// `unknown_namespace` is what a well-formed namespace that does not exist must lead to.
fn connection_flags(base: &'static [&'static str], unknown_namespace: Expect) -> Vec<Flag> {
    let survive = |list: &[&str]| with_hostile(values(list, Expect::Survive), Expect::Survive);
    vec![
        Flag {
            flag: "--namespace",
            base,
            good: "gateway",
            bad: namespaces(unknown_namespace),
        },
        Flag {
            flag: "--request-timeout",
            base,
            good: "30s",
            bad: durations(),
        },
        Flag {
            flag: "--context",
            base,
            good: "test-cluster",
            bad: with_hostile(
                values(&["", "nope"], Expect::UsageOrNotFound),
                Expect::UsageOrNotFound,
            ),
        },
        Flag {
            flag: "--kubeconfig",
            base,
            good: "",
            bad: with_hostile(
                values(
                    &["/nonexistent/kubeconfig", "/etc", "/proc/self/status"],
                    Expect::UsageOrNotFound,
                ),
                Expect::UsageOrNotFound,
            ),
        },
        Flag {
            flag: "--server",
            base,
            good: "",
            bad: with_hostile(
                values(
                    &[
                        "not a url",
                        "http://",
                        "ftp://x",
                        "http://[::1",
                        "http://127.0.0.1:1",
                    ],
                    Expect::UsageOrNotFound,
                ),
                Expect::UsageOrNotFound,
            ),
        },
        Flag {
            flag: "--token",
            base,
            good: "abc",
            bad: survive(&["", "a\nb", "Bearer x"]),
        },
        Flag {
            flag: "--as",
            base,
            good: "someone",
            bad: survive(&["", "a\nb"]),
        },
        Flag {
            flag: "--output",
            base,
            good: "json",
            bad: outputs(),
        },
    ]
}

/// gw-status's flags.
fn gw_status_flags() -> Vec<Flag> {
    const BASE: &[&str] = &["gateway-proxy", "--namespace=gateway"];
    const BASE_NO_NS: &[&str] = &["gateway-proxy"];
    const LOGS: &[&str] = &["gateway-proxy", "--namespace=gateway", "--logs"];
    let enums = |list: &[&str]| with_hostile(values(list, Expect::Usage), Expect::Usage);
    let mut flags = vec![
        Flag {
            flag: "",
            base: &["--namespace=gateway"],
            good: "gateway-proxy",
            bad: names(),
        },
        Flag {
            flag: "--since",
            base: LOGS,
            good: "5m",
            bad: durations(),
        },
        Flag {
            flag: "--tail",
            base: LOGS,
            good: "100",
            bad: enums(&["", "0", "-1", "x", "1.5", "99999999999999999999999"]),
        },
        Flag {
            flag: "--fail-on",
            base: BASE,
            good: "critical",
            bad: enums(&["", "panic", "Warning "]),
        },
        Flag {
            flag: "--color",
            base: BASE,
            good: "never",
            bad: enums(&["", "sometimes"]),
        },
        Flag {
            flag: "--profiles",
            base: BASE,
            good: "",
            bad: with_hostile(
                values(
                    &["/etc", "/proc/self/status", "/nonexistent/x.yaml"],
                    Expect::UsageOrNotFound,
                ),
                Expect::UsageOrNotFound,
            ),
        },
        Flag {
            flag: "--ignore",
            base: BASE,
            good: "",
            bad: with_hostile(
                values(&["", "*", "..", &"x".repeat(5000)], Expect::Survive),
                Expect::Survive,
            ),
        },
    ];
    flags.extend(
        connection_flags(BASE_NO_NS, Expect::UsageOrNotFound)
            .into_iter()
            .map(|mut f| {
                if f.flag != "--namespace" {
                    f.base = BASE;
                }
                f
            }),
    );
    flags
}

/// gw-resize's flags (all with `--dry-run=client`: nothing is ever sent).
fn gw_resize_flags() -> Vec<Flag> {
    const BASE: &[&str] = &[
        "gateway-proxy",
        "--namespace=gateway",
        "--dry-run=client",
        "--replicas=4",
    ];
    const BASE_NO_NS: &[&str] = &["gateway-proxy", "--dry-run=client", "--replicas=4"];
    const MEMORY: &[&str] = &[
        "gateway-proxy",
        "--namespace=gateway",
        "--dry-run=client",
        "--memory=756Mi",
    ];
    let usage = |list: &[&str]| with_hostile(values(list, Expect::Usage), Expect::Usage);
    let mut flags = vec![
        Flag {
            flag: "",
            base: &["--namespace=gateway", "--dry-run=client", "--replicas=4"],
            good: "gateway-proxy",
            bad: names(),
        },
        Flag {
            flag: "--container",
            base: MEMORY,
            good: "proxy",
            bad: names(),
        },
    ];
    for flag in [
        "--memory",
        "--memory-request",
        "--memory-limit",
        "--cpu",
        "--cpu-request",
        "--cpu-limit",
    ] {
        flags.push(Flag {
            flag,
            base: BASE,
            good: "x1.5",
            bad: quantities(),
        });
    }
    flags.extend([
        Flag {
            flag: "--replicas",
            base: MEMORY,
            good: "+1",
            bad: usage(&[
                "",
                "+",
                "-",
                "x2",
                "1.5",
                "--1",
                "0x10",
                "-99",
                "99999999999",
                "+99999999999",
            ]),
        },
        Flag {
            flag: "--add-toleration",
            base: BASE,
            good: "dedicated=gateway:NoSchedule",
            bad: usage(&[
                "",
                ":",
                "=:",
                "k=v",
                "k=v:",
                "k=v:Bad",
                "=v:NoSchedule",
                "k=v:NoSchedule:x",
            ]),
        },
        Flag {
            flag: "--remove-toleration",
            base: BASE,
            good: "dedicated",
            bad: usage(&["", ":", "k:Bad", "k:NoSchedule:x"]),
        },
        Flag {
            flag: "--timeout",
            base: BASE,
            good: "90s",
            bad: durations(),
        },
        Flag {
            flag: "--dry-run",
            base: &["gateway-proxy", "--namespace=gateway", "--replicas=4"],
            good: "client",
            bad: usage(&["", "yes", "all", "Client"]),
        },
        Flag {
            flag: "--field-manager",
            base: BASE,
            good: "me",
            bad: with_hostile(
                values(&["", &"x".repeat(300)], Expect::Survive),
                Expect::Survive,
            ),
        },
    ]);
    flags.extend(
        connection_flags(BASE_NO_NS, Expect::UsageOrNotFound)
            .into_iter()
            .map(|mut f| {
                if f.flag != "--namespace" {
                    f.base = BASE;
                }
                f
            }),
    );
    flags
}

/// node-maintain's flags: `check`'s, `drain`'s (with `--dry-run=client`), `cordon -l` and
/// `uncordon --timeout` (dry runs), and the connection flags after `check`.
fn node_maintain_flags() -> Vec<Flag> {
    const CHECK: &[&str] = &["check"];
    const DRAIN: &[&str] = &[
        "drain",
        "node-1",
        "--force",
        "--delete-emptydir-data",
        "--dry-run=client",
    ];
    let usage = |list: &[&str]| with_hostile(values(list, Expect::Usage), Expect::Usage);
    let survive = |list: &[&str]| with_hostile(values(list, Expect::Survive), Expect::Survive);
    let mut flags = vec![
        Flag {
            flag: "",
            base: CHECK,
            good: "node-1",
            bad: names(),
        },
        Flag {
            flag: "",
            base: &[
                "drain",
                "--force",
                "--delete-emptydir-data",
                "--dry-run=client",
            ],
            good: "node-1",
            bad: names(),
        },
        Flag {
            flag: "--selector",
            base: CHECK,
            good: "kubernetes.io/os=linux",
            bad: selectors(),
        },
        Flag {
            flag: "--since",
            base: CHECK,
            good: "2h",
            bad: durations(),
        },
        Flag {
            flag: "--fail-on",
            base: CHECK,
            good: "critical",
            bad: usage(&["", "panic"]),
        },
        Flag {
            flag: "--ignore",
            base: CHECK,
            good: "",
            bad: survive(&["", "*", &"x".repeat(5000)]),
        },
        Flag {
            flag: "--grace-period",
            base: DRAIN,
            good: "30",
            bad: numbers(&[]),
        },
        Flag {
            flag: "--timeout",
            base: DRAIN,
            good: "5m",
            bad: durations(),
        },
        Flag {
            flag: "--pod-selector",
            base: DRAIN,
            good: "app=web",
            bad: selectors(),
        },
        Flag {
            flag: "--skip-wait-for-delete-timeout",
            base: DRAIN,
            good: "30",
            bad: numbers(&["-1"]),
        },
        Flag {
            flag: "--chunk-size",
            base: DRAIN,
            good: "100",
            bad: numbers(&["-1"]),
        },
        Flag {
            flag: "--concurrency",
            base: DRAIN,
            good: "2",
            bad: numbers(&["0", "-1", "1001"]),
        },
        Flag {
            flag: "--ignore-daemonsets",
            base: DRAIN,
            good: "true",
            bad: usage(&["", "maybe", "yes!"]),
        },
        Flag {
            flag: "--reason",
            base: DRAIN,
            good: "kernel upgrade",
            bad: survive(&["", &"x".repeat(5000)]),
        },
        Flag {
            flag: "--field-manager",
            base: DRAIN,
            good: "me",
            bad: survive(&["", &"x".repeat(300)]),
        },
        Flag {
            flag: "--dry-run",
            base: &[
                "drain",
                "node-1",
                "--force",
                "--delete-emptydir-data",
                "--yes",
            ],
            good: "client",
            bad: usage(&["", "yes", "all"]),
        },
        Flag {
            flag: "--selector",
            base: &["cordon", "--dry-run=client"],
            good: "kubernetes.io/hostname=node-1",
            bad: selectors(),
        },
        Flag {
            flag: "--timeout",
            base: &["uncordon", "node-1", "--dry-run=client", "--wait-ready"],
            good: "5s",
            bad: durations(),
        },
    ];
    // `check` is cluster-scoped: a namespace that does not exist changes nothing.
    flags.extend(connection_flags(CHECK, Expect::Survive));
    flags
}

/// svc-check's flags. Without a Service named, an existing-looking namespace with nothing in
/// it is an empty report, as `kubectl get svc -n NS` answers "No resources found".
fn svc_check_flags() -> Vec<Flag> {
    const BASE: &[&str] = &["--namespace=shop"];
    const PROBE: &[&str] = &["payment", "--namespace=shop", "--probe"];
    let usage = |list: &[&str]| with_hostile(values(list, Expect::Usage), Expect::Usage);
    let survive = |list: &[&str]| with_hostile(values(list, Expect::Survive), Expect::Survive);
    let mut flags = vec![
        Flag {
            flag: "",
            base: BASE,
            good: "payment",
            bad: names(),
        },
        Flag {
            flag: "--selector",
            base: BASE,
            good: "app=payment",
            bad: selectors(),
        },
        Flag {
            flag: "--probe-timeout",
            base: PROBE,
            good: "2s",
            bad: durations(),
        },
        Flag {
            flag: "--fail-on",
            base: BASE,
            good: "critical",
            bad: usage(&["", "panic"]),
        },
        Flag {
            flag: "--ignore",
            base: BASE,
            good: "",
            bad: survive(&["", "*", &"x".repeat(5000)]),
        },
    ];
    flags.extend(
        connection_flags(&[], Expect::Survive)
            .into_iter()
            .map(|mut f| {
                if f.flag != "--namespace" {
                    f.base = BASE;
                }
                f
            }),
    );
    flags
}

/// The flags of `p` that take a value.
pub fn flags(p: &Plugin) -> Vec<Flag> {
    match p.name {
        "gw-status" => gw_status_flags(),
        "gw-resize" => gw_resize_flags(),
        "node-maintain" => node_maintain_flags(),
        "svc-check" => svc_check_flags(),
        other => panic!("no bad-input flags for {other}"),
    }
}

/// Whether `run` met `expect`.
fn met(run: &Run, expect: Expect) -> bool {
    match expect {
        Expect::Usage => run.code == 64,
        Expect::UsageOrNotFound => matches!(run.code, 3 | 64),
        Expect::Survive => matches!(run.code, 0..=3 | 64),
    }
}

/// How many runs go at once.
const PARALLEL: usize = 4;

/// Feeds every bad value to every flag of `p`.
pub async fn bad_input(p: &Plugin) -> Verdict {
    let env = Arc::new(Env::start(p.scenario).await);
    let before = (p.state)(&env);
    let mut v = Verdict::new("");
    let mut jobs: Vec<(String, Vec<String>, Option<Expect>)> = Vec::new();
    for flag in flags(p) {
        let name = if flag.flag.is_empty() {
            "TARGET"
        } else {
            flag.flag
        };
        // `good` "" means: the flag left out (its default is the working value).
        let good_args = if flag.good.is_empty() {
            flag.base.iter().map(|s| s.to_string()).collect()
        } else {
            flag.args(flag.good)
        };
        jobs.push((format!("{name}={:?} (good)", flag.good), good_args, None));
        for (value, expect) in &flag.bad {
            let shown = format!("{name}={:?}", shorten(value, 24));
            jobs.push((shown, flag.args(value), Some(*expect)));
        }
    }
    let total = jobs.iter().filter(|j| j.2.is_some()).count();
    let mut failed: Vec<String> = Vec::new();
    let mut panics = 0;
    for chunk in jobs.chunks(PARALLEL) {
        let runs = chunk.iter().map(|(_, args, _)| {
            let env = Arc::clone(&env);
            let args = args.clone();
            let binary = p.binary;
            tokio::spawn(async move {
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                Run::of(&mut command(&env, binary, &refs, None)).await
            })
        });
        let runs: Vec<Run> = futures_join(runs).await;
        for ((label, _, expect), run) in chunk.iter().zip(runs) {
            let mut one = Verdict::new("");
            basic(&mut one, &run);
            panics += usize::from(run.panicked());
            let ok = match expect {
                None => matches!(run.code, 0..=2),
                Some(e) => met(&run, *e),
            };
            if !ok || !one.survived() {
                failed.push(format!("{label} → {}", run.summary()));
            }
        }
    }
    v.observed = format!(
        "{total} values, {} as expected, {panics} panics",
        total.saturating_sub(failed.iter().filter(|f| !f.contains("(good)")).count())
    );
    v.expect(failed.is_empty(), || {
        format!("unexpected answers:\n    {}", failed.join("\n    "))
    });
    let after = (p.state)(&env);
    v.lost_if(after != before, || {
        format!("bad input changed the cluster: {after}")
    });
    v
}

/// Awaits spawned runs in order.
async fn futures_join(handles: impl Iterator<Item = tokio::task::JoinHandle<Run>>) -> Vec<Run> {
    let handles: Vec<_> = handles.collect();
    let mut runs = Vec::with_capacity(handles.len());
    for h in handles {
        runs.push(h.await.expect("run task"));
    }
    runs
}
