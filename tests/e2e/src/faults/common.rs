//! Faults every plugin meets the same way: a slow server, failing or dropped reads, 401,
//! malformed answers, and a run watched for Secret reads and token leaks.

use std::collections::HashMap;
use std::time::Duration;

use testcluster::faults::FaultAction;

use super::front::{Front, Mangle};
use super::run::{Run, command};
use super::{Plugin, Verdict};
use crate::{Env, finding_ids};

/// The result of a run that the faults must not change: exit code and finding ids.
fn outcome(run: &Run) -> (i32, Vec<String>) {
    let ids = run.json().map(|v| finding_ids(&v)).unwrap_or_default();
    (run.code, ids)
}

/// `args` followed by `extra`.
pub fn with(args: &[&'static str], extra: &[&'static str]) -> Vec<&'static str> {
    args.iter().chain(extra).copied().collect()
}

/// Checks what every run must do: finish, not panic, and (when it fails with 3 or 64) say so
/// in exactly one `error:` line.
pub fn basic(v: &mut Verdict, run: &Run) {
    v.expect(!run.hung, || format!("hung:\n{}", run.explain()));
    v.expect(!run.panicked(), || format!("panicked:\n{}", run.explain()));
    if matches!(run.code, 3 | 64) {
        v.expect(run.one_error().is_some(), || {
            format!(
                "exit {} without exactly one error line:\n{}",
                run.code,
                run.explain()
            )
        });
    }
}

/// Compares the plugin's state before and after; a difference is damage.
fn unchanged(v: &mut Verdict, p: &Plugin, env: &Env, before: &serde_json::Value) {
    let after = (p.state)(env);
    v.lost_if(&after != before, || {
        format!("the cluster changed although the run failed:\nbefore {before}\nafter  {after}")
    });
}

/// 200 ms per request, `--request-timeout 100ms`: exit 3 and one line naming the timeout.
pub async fn latency(p: &Plugin) -> Verdict {
    let env = Env::start(p.scenario).await;
    let before = (p.state)(&env);
    env.cluster.faults().set_latency(Duration::from_millis(200));
    let args = with(p.main_run(), &["--request-timeout", "100ms"]);
    let run = Run::of(&mut command(&env, p.binary, &args, None)).await;
    let mut v = Verdict::new(run.summary());
    basic(&mut v, &run);
    v.expect(run.code == 3, || {
        format!("exit {} instead of 3:\n{}", run.code, run.explain())
    });
    v.expect(
        run.one_error()
            .is_some_and(|l| l.contains("timed out") && l.contains("--request-timeout")),
        || {
            format!(
                "no one timeout line naming --request-timeout:\n{}",
                run.explain()
            )
        },
    );
    unchanged(&mut v, p, &env, &before);
    v
}

/// The first reads fail (503, 503, 500, or three dropped connections): retried, the result
/// is the one without faults.
pub async fn read_errors(p: &Plugin, resets: bool) -> Verdict {
    let env = Env::start(p.scenario).await;
    let baseline = Run::of(&mut command(&env, p.binary, p.read, None)).await;
    let faults = env.cluster.faults();
    if resets {
        faults.fail_next(3, Some("GET"), "", FaultAction::Reset);
    } else {
        faults.fail_next(2, Some("GET"), "", FaultAction::Status(503));
        faults.fail_next(1, Some("GET"), "", FaultAction::Status(500));
    }
    let args = with(p.read, &["-v"]);
    let run = Run::of(&mut command(&env, p.binary, &args, None)).await;
    let retries = run.stderr.matches(": retrying in ").count();
    let mut v = Verdict::new(format!("{} after {retries} retries", run.summary()));
    basic(&mut v, &run);
    v.expect(faults.snapshot().failures.is_empty(), || {
        "the injected failures were not all met".into()
    });
    v.expect(retries >= 1, || {
        format!("no retry logged:\n{}", run.explain())
    });
    v.expect(outcome(&run) == outcome(&baseline), || {
        format!(
            "result differs from the run without faults: {:?} vs {:?}\n{}",
            outcome(&run),
            outcome(&baseline),
            run.explain()
        )
    });
    v
}

/// Every read answers 503: a clear error within 15 s, each read tried at most 4 times.
pub async fn read_errors_forever(p: &Plugin) -> Verdict {
    const FAILURES: usize = 1_000_000;
    let env = Env::start(p.scenario).await;
    let before = (p.state)(&env);
    let faults = env.cluster.faults();
    faults.fail_next(FAILURES, Some("GET"), "", FaultAction::Status(503));
    let args = with(p.main_run(), &["-v"]);
    let run = Run::of(&mut command(&env, p.binary, &args, None)).await;
    let sent: usize = FAILURES
        - faults
            .snapshot()
            .failures
            .iter()
            .map(|r| r.count)
            .sum::<usize>();
    let mut tries: HashMap<String, usize> = HashMap::new();
    for request in run.logged_requests() {
        *tries.entry(request).or_default() += 1;
    }
    let most = tries.values().copied().max().unwrap_or(0);
    let mut v = Verdict::new(format!(
        "{} in {:.1}s, {sent} reads sent, at most {most} per path",
        run.summary(),
        run.elapsed.as_secs_f64()
    ));
    basic(&mut v, &run);
    v.expect(run.code == 3, || {
        format!("exit {} instead of 3:\n{}", run.code, run.explain())
    });
    v.expect(run.elapsed < Duration::from_secs(15), || {
        format!("took {:?}", run.elapsed)
    });
    v.expect((2..=4).contains(&most), || {
        format!("tries per read: {tries:?} (expected 2 to 4)")
    });
    unchanged(&mut v, p, &env, &before);
    v
}

/// Every request answers 401: exit 3 and one line saying the credentials were refused.
pub async fn unauthorized(p: &Plugin) -> Verdict {
    let env = Env::start(p.scenario).await;
    let before = (p.state)(&env);
    env.cluster
        .faults()
        .fail_next(1_000_000, None, "", FaultAction::Status(401));
    let run = Run::of(&mut command(&env, p.binary, p.main_run(), None)).await;
    let mut v = Verdict::new(run.summary());
    basic(&mut v, &run);
    v.expect(run.code == 3, || {
        format!("exit {} instead of 3:\n{}", run.code, run.explain())
    });
    v.expect(
        run.one_error().is_some_and(|l| l.contains("unauthorised")),
        || format!("no one line saying unauthorised:\n{}", run.explain()),
    );
    unchanged(&mut v, p, &env, &before);
    v
}

/// Every read answer spoiled as `how`, through a [`Front`].
pub async fn malformed(p: &Plugin, how: Mangle) -> Verdict {
    let env = Env::start(p.scenario).await;
    let baseline = Run::of(&mut command(&env, p.binary, p.read, None)).await;
    let front = Front::start(&env.cluster).await;
    let kubeconfig = env.dir.path().join("front-kubeconfig");
    front.write_kubeconfig(&kubeconfig);
    front.mangle(1_000_000, Some(http::Method::GET), "", how);
    let run = Run::of(&mut command(&env, p.binary, p.read, Some(&kubeconfig))).await;
    let mut v = Verdict::new(run.summary());
    basic(&mut v, &run);
    match how {
        Mangle::Truncate => {
            v.expect(run.code == 3, || {
                format!("exit {} instead of 3:\n{}", run.code, run.explain())
            });
        }
        Mangle::UnknownFields => {
            v.expect(outcome(&run) == outcome(&baseline), || {
                format!(
                    "unknown fields changed the result: {:?} vs {:?}\n{}",
                    outcome(&run),
                    outcome(&baseline),
                    run.explain()
                )
            });
        }
        Mangle::DropStatus => {
            v.expect((0..=3).contains(&run.code), || {
                format!("exit {} outside 0-3:\n{}", run.code, run.explain())
            });
        }
    }
    v
}

/// The token every secrets case passes with `--token`.
const TOKEN: &str = "s3cr3t-fault-matrix-token-7f1c";

/// The read and the act runs through a [`Front`] with `-vv --token`: no request touches
/// Secrets, the token reaches the server but never the output.
pub async fn secrets_and_token(p: &Plugin) -> Verdict {
    let env = Env::start(p.scenario).await;
    let front = Front::start(&env.cluster).await;
    let kubeconfig = env.dir.path().join("front-kubeconfig");
    front.write_kubeconfig(&kubeconfig);
    let mut v = Verdict::new("");
    let mut runs = vec![p.read];
    runs.extend(p.act);
    let mut leaks = 0;
    for args in runs {
        let args = with(args, &["-vv", "--token", TOKEN]);
        let run = Run::of(&mut command(&env, p.binary, &args, Some(&kubeconfig))).await;
        basic(&mut v, &run);
        let leaked = run.stderr.contains(TOKEN) || run.stdout.contains(TOKEN);
        leaks += usize::from(leaked);
        v.expect(!leaked, || {
            format!("the token was printed:\n{}", run.explain())
        });
        v.expect(!run.logged_requests().is_empty(), || {
            format!("-vv logged no request:\n{}", run.explain())
        });
    }
    let requests = front.requests();
    let secrets: Vec<String> = requests
        .iter()
        .filter(|s| s.path.contains("/secrets"))
        .map(|s| format!("{} {}", s.method, s.path))
        .collect();
    let bearer = format!("Bearer {TOKEN}");
    let with_token = requests
        .iter()
        .filter(|s| s.authorization.as_deref() == Some(bearer.as_str()))
        .count();
    v.observed = format!(
        "{} requests, {} Secret reads, token sent {with_token}x, printed {leaks}x",
        requests.len(),
        secrets.len()
    );
    v.expect(secrets.is_empty(), || format!("Secrets read: {secrets:?}"));
    v.expect(with_token == requests.len() && with_token > 0, || {
        format!(
            "the token was not sent on every request ({with_token} of {})",
            requests.len()
        )
    });
    v
}
