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
    /// Arguments that make a valid run around the flag (the target first when the flag is not
    /// the target).
    pub base: &'static [&'static str],
    /// A value that works, to prove the base run is valid.
    pub good: &'static str,
    /// The bad values and what each must lead to.
    pub bad: Vec<(String, Expect)>,
}

impl Flag {
    /// The arguments with `value` for this flag.
    fn args(&self, value: &str) -> Vec<String> {
        let mut args: Vec<String> = Vec::new();
        if self.flag.is_empty() {
            args.push(value.to_string());
            args.extend(self.base.iter().map(|s| s.to_string()));
        } else {
            args.extend(self.base.iter().map(|s| s.to_string()));
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
            "",
            "xml",
            "jsonpath=",
            "jsonpath={.items[",
            "jsonpath={range .x}",
            "jsonpath={{}}",
            "jsonpath={.a}{end}",
            "go-template={{.}}",
            "custom-columns=X:.y",
        ],
        Expect::Usage,
    );
    bad.push((format!("jsonpath={}", "{".repeat(5000)), Expect::Usage));
    bad.push((format!("jsonpath={}", "[".repeat(5000)), Expect::Usage));
    with_hostile(bad, Expect::Usage)
}

/// Odd object names: a malformed one exits 64, a well-formed unknown one 3.
fn names() -> Vec<(String, Expect)> {
    let bad = values(
        &[
            "",
            "no-such-thing",
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
        ],
        Expect::UsageOrNotFound,
    );
    let mut bad = with_hostile(bad, Expect::UsageOrNotFound);
    bad.push(("x".repeat(300), Expect::UsageOrNotFound));
    bad
}

/// Namespaces: anything not a DNS-1123 label exits 64.
fn namespaces() -> Vec<(String, Expect)> {
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
    bad.push(("no-such-namespace".into(), Expect::UsageOrNotFound));
    with_hostile(bad, Expect::Usage)
}

/// The connection flags every plugin shares, around `base`.
fn connection_flags(base: &'static [&'static str]) -> Vec<Flag> {
    let survive = |list: &[&str]| with_hostile(values(list, Expect::Survive), Expect::Survive);
    vec![
        Flag {
            flag: "--namespace",
            base,
            good: "gateway",
            bad: namespaces(),
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
    flags.extend(connection_flags(BASE_NO_NS).into_iter().map(|mut f| {
        if f.flag != "--namespace" {
            f.base = BASE;
        }
        f
    }));
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
            base: BASE,
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
    flags.extend(connection_flags(BASE_NO_NS).into_iter().map(|mut f| {
        if f.flag != "--namespace" {
            f.base = BASE;
        }
        f
    }));
    flags
}

/// The flags of `p` that take a value.
pub fn flags(p: &Plugin) -> Vec<Flag> {
    match p.name {
        "gw-status" => gw_status_flags(),
        "gw-resize" => gw_resize_flags(),
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
