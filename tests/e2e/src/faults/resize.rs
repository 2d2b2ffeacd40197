//! Faults on the write path of plugins that change the cluster: failing writes, conflicts,
//! watches that drop or expire while the change is followed, and Ctrl-C before and after the
//! change is sent.

use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use testcluster::faults::FaultAction;

use super::common::{basic, with};
use super::front::Front;
use super::plugins::Writes;
use super::run::{Run, command};
use super::{Plugin, Verdict};
use crate::Env;

fn writes(p: &Plugin) -> &Writes {
    p.writes
        .as_ref()
        .unwrap_or_else(|| panic!("{} has no write path", p.name))
}

fn act(p: &Plugin) -> &'static [&'static str] {
    p.act.unwrap_or_else(|| panic!("{} has no act run", p.name))
}

/// How many requests a failure rule of `count` has met so far.
fn fired(env: &Env, count: usize) -> usize {
    count
        - env
            .cluster
            .faults()
            .snapshot()
            .failures
            .iter()
            .map(|r| r.count)
            .sum::<usize>()
}

/// Every write answers 503 (or loses its connection): sent once, nothing changed, one line.
pub async fn write_fails(p: &Plugin, reset: bool) -> Verdict {
    const FAILURES: usize = 1000;
    let w = writes(p);
    let env = Env::start(p.scenario).await;
    let before = (p.state)(&env);
    let action = if reset {
        FaultAction::Reset
    } else {
        FaultAction::Status(503)
    };
    env.cluster
        .faults()
        .fail_next(FAILURES, Some(w.method), w.path, action);
    let run = Run::of(&mut command(&env, p.binary, act(p), None)).await;
    let sent = fired(&env, FAILURES);
    let mut v = Verdict::new(format!("{}; write sent {sent}x", run.summary()));
    basic(&mut v, &run);
    v.expect(matches!(run.code, 2 | 3), || {
        format!("exit {} instead of 2 or 3:\n{}", run.code, run.explain())
    });
    v.expect(run.one_error().is_some(), || {
        format!("no one error line:\n{}", run.explain())
    });
    v.lost_if(sent > 1, || {
        format!("a failed {} was sent {sent} times", w.method)
    });
    let after = (p.state)(&env);
    v.lost_if(after != before, || {
        format!("the state changed:\nbefore {before}\nafter  {after}")
    });
    v
}

/// Someone else changes the object just before the plugin's write reaches the server: the
/// write's precondition fails (409), the plugin re-reads, re-plans from the new values, and
/// the other change is not overwritten.
pub async fn concurrent_change(p: &Plugin) -> Verdict {
    let w = writes(p);
    let env = Env::start(p.scenario).await;
    let front = Front::start(&env.cluster).await;
    let kubeconfig = env.dir.path().join("front-kubeconfig");
    front.write_kubeconfig(&kubeconfig);
    let method: http::Method = w.method.parse().expect("HTTP method");
    front.before(1, method, w.path, w.concurrent);
    let run = Run::of(&mut command(&env, p.binary, w.relative, Some(&kubeconfig))).await;
    let writes_sent = front
        .requests()
        .iter()
        .filter(|s| s.method == w.method && s.path.contains(w.path))
        .count();
    let after = (p.state)(&env);
    let mut v = Verdict::new(format!("{}; {writes_sent} writes", run.summary()));
    basic(&mut v, &run);
    v.expect(front.rules_left() == 0, || {
        "the concurrent change never ran".into()
    });
    v.expect(run.code == 0, || {
        format!("exit {} instead of 0:\n{}", run.code, run.explain())
    });
    v.lost_if(!(w.replanned)(&after), || {
        format!("the concurrent change was overwritten or the change not re-planned: {after}")
    });
    v
}

/// The write answers 409 once although nothing changed: sent again, applied once.
pub async fn spurious_conflict(p: &Plugin) -> Verdict {
    let w = writes(p);
    let env = Env::start(p.scenario).await;
    let before = (p.state)(&env);
    env.cluster
        .faults()
        .fail_next(1, Some(w.method), w.path, FaultAction::Status(409));
    let args = with(act(p), &["-v"]);
    let run = Run::of(&mut command(&env, p.binary, &args, None)).await;
    let writes_sent = run
        .logged_requests()
        .iter()
        .filter(|r| r.starts_with(w.method) && r.contains(w.path))
        .count();
    let after = (p.state)(&env);
    let mut v = Verdict::new(format!("{}; {writes_sent} writes", run.summary()));
    basic(&mut v, &run);
    v.expect(run.code == 0, || {
        format!("exit {} instead of 0:\n{}", run.code, run.explain())
    });
    v.expect(writes_sent == 2, || {
        format!("{writes_sent} writes instead of 2")
    });
    v.lost_if(after != before && !(p.applied)(&after), || {
        format!("left half-done: {after}")
    });
    v
}

/// Watches end after one event during the rollout (and, with `expire`, resumed watches answer
/// 410 Expired): the plugin resumes (re-lists after 410) and follows the change to its end.
pub async fn watch_drops(p: &Plugin, expire: bool) -> Verdict {
    let env = Env::start(p.scenario).await;
    let front = Front::start(&env.cluster).await;
    let kubeconfig = env.dir.path().join("front-kubeconfig");
    front.write_kubeconfig(&kubeconfig);
    env.cluster.faults().drop_watches_after(Some(1));
    if expire {
        front.expire_resumed_watches(3, "");
    }
    let run = Run::of(&mut command(&env, p.binary, act(p), Some(&kubeconfig))).await;
    let requests = front.requests();
    let watches = requests.iter().filter(|s| s.is_watch()).count();
    let expired = if expire { 3 - front.rules_left() } else { 0 };
    let relisted = requests
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_watch() && s.has_param("resourceVersion"))
        .take(expired)
        .filter(|(i, s)| {
            requests[i + 1..]
                .iter()
                .any(|later| later.path == s.path && !later.is_watch() && later.method == "GET")
        })
        .count();
    let after = (p.state)(&env);
    let mut v = Verdict::new(if expire {
        format!(
            "{}; {expired} watches expired, {relisted} re-listed",
            run.summary()
        )
    } else {
        format!("{}; {watches} watches", run.summary())
    });
    basic(&mut v, &run);
    v.expect(run.code == 0, || {
        format!("exit {} instead of 0:\n{}", run.code, run.explain())
    });
    if expire {
        v.expect(expired >= 1, || "no watch was resumed".into());
        v.expect(relisted == expired, || {
            format!("{relisted} of {expired} expired watches re-listed")
        });
    } else {
        v.expect(watches >= 2, || format!("{watches} watches: none resumed"));
    }
    v.lost_if(!(p.applied)(&after), || format!("not applied: {after}"));
    v
}

/// Sends SIGINT to a running child.
fn interrupt(child: &tokio::process::Child) {
    let pid = child.id().expect("the plugin is running");
    let pid = Pid::from_raw(i32::try_from(pid).expect("pid fits i32"));
    kill(pid, Signal::SIGINT).expect("send SIGINT");
}

/// Ctrl-C while the plugin is still reading (every request takes 1 s): exit 130, one line,
/// nothing changed.
pub async fn interrupt_before_send(p: &Plugin) -> Verdict {
    let env = Env::start(p.scenario).await;
    let before = (p.state)(&env);
    env.cluster.faults().set_latency(Duration::from_secs(1));
    let start = Instant::now();
    let child = command(&env, p.binary, act(p), None)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the plugin");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    interrupt(&child);
    let run = Run::wait(child, start).await;
    env.cluster.faults().set_latency(Duration::ZERO);
    let mut v = Verdict::new(run.summary());
    basic(&mut v, &run);
    v.expect(run.code == 130, || {
        format!("exit {} instead of 130:\n{}", run.code, run.explain())
    });
    v.expect(
        run.stderr.lines().any(|l| l.contains("interrupted")),
        || format!("no line saying interrupted:\n{}", run.explain()),
    );
    let after = (p.state)(&env);
    v.lost_if(after != before, || {
        format!("changed although interrupted before sending:\nbefore {before}\nafter  {after}")
    });
    v
}

/// Ctrl-C once the change was sent, while it is followed (every request slowed to 150 ms):
/// exit 130 with a line saying what was applied and how to check it; the same command run
/// again sends nothing new and follows the change to its end.
pub async fn interrupt_after_send(p: &Plugin) -> Verdict {
    let w = writes(p);
    let env = Env::start(p.scenario).await;
    env.cluster.faults().set_latency(Duration::from_millis(150));
    let start = Instant::now();
    let child = command(&env, p.binary, act(p), None)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the plugin");
    let sent = wait_until(Duration::from_secs(30), || (w.started)(&(p.state)(&env))).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    interrupt(&child);
    let run = Run::wait(child, start).await;
    env.cluster.faults().set_latency(Duration::ZERO);
    let interrupted = (p.state)(&env);
    let args = with(act(p), &["-v"]);
    let rerun = Run::of(&mut command(&env, p.binary, &args, None)).await;
    let rewrites = rerun
        .logged_requests()
        .iter()
        .filter(|r| r.starts_with(w.method) && r.contains(w.path))
        .count();
    let after = (p.state)(&env);
    let mut v = Verdict::new(format!(
        "{}; rerun: {}, {rewrites} writes",
        run.summary(),
        rerun.summary()
    ));
    basic(&mut v, &run);
    basic(&mut v, &rerun);
    v.expect(sent, || "the change was never sent".into());
    v.expect(run.code == 130, || {
        format!("exit {} instead of 130:\n{}", run.code, run.explain())
    });
    v.expect(run.stderr.contains("interrupted"), || {
        format!("no summary saying it was interrupted:\n{}", run.explain())
    });
    v.expect(rerun.code == 0, || {
        format!("rerun exit {}:\n{}", rerun.code, rerun.explain())
    });
    v.expect((w.resumed)(&rerun), || {
        format!(
            "the rerun did not take the change to its end:\n{}",
            rerun.explain()
        )
    });
    v.lost_if(!(w.started)(&interrupted), || {
        format!("the sent change was undone by the interruption: {interrupted}")
    });
    v.lost_if(!(p.applied)(&after), || {
        format!("not applied after the rerun: {after}")
    });
    v.lost_if((w.kept)(&after) != (w.kept)(&interrupted), || {
        format!(
            "the rerun changed what the first run had set:\nbefore {}\nafter  {}",
            (w.kept)(&interrupted),
            (w.kept)(&after)
        )
    });
    v
}

/// Polls `done` every 20 ms for at most `limit`.
async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}
