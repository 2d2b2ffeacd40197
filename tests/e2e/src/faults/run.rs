//! Running a plugin under a fault and reading what it did: exit code, error lines, panics,
//! the requests it logged with `-v`.

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use crate::Env;

/// How long one plugin run may take before it counts as hung.
pub const RUN_LIMIT: Duration = Duration::from_secs(90);

/// A finished plugin run.
#[derive(Clone, Debug)]
pub struct Run {
    /// Exit code (-1 when killed by a signal or hung).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
    /// Killed after [`RUN_LIMIT`].
    pub hung: bool,
}

impl Run {
    /// Runs `cmd` to completion (killing it after [`RUN_LIMIT`]).
    pub async fn of(cmd: &mut tokio::process::Command) -> Run {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let start = Instant::now();
        let child = cmd.spawn().expect("spawn the plugin");
        Run::wait(child, start).await
    }

    /// Waits for a spawned child (started at `start`) with [`RUN_LIMIT`].
    pub async fn wait(child: tokio::process::Child, start: Instant) -> Run {
        match tokio::time::timeout(RUN_LIMIT, child.wait_with_output()).await {
            Ok(Ok(out)) => Run::from_output(&out, start.elapsed()),
            Ok(Err(e)) => panic!("waiting for the plugin: {e}"),
            Err(_) => Run {
                code: -1,
                stdout: String::new(),
                stderr: String::new(),
                elapsed: start.elapsed(),
                hung: true,
            },
        }
    }

    fn from_output(out: &Output, elapsed: Duration) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed,
            hung: false,
        }
    }

    /// The process panicked (or printed Rust's backtrace hint).
    pub fn panicked(&self) -> bool {
        let text = format!("{}{}", self.stdout, self.stderr);
        text.contains("panicked") || text.contains("RUST_BACKTRACE")
    }

    /// The `error: ...` lines of stderr.
    pub fn error_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect()
    }

    /// The one error line, when there is exactly one.
    pub fn one_error(&self) -> Option<&str> {
        match self.error_lines().as_slice() {
            [line] => Some(line),
            _ => None,
        }
    }

    /// `exit N: <first error line>` (shortened), for the report.
    pub fn summary(&self) -> String {
        if self.hung {
            return format!("hung (killed after {}s)", RUN_LIMIT.as_secs());
        }
        let mut s = format!("exit {}", self.code);
        if self.panicked() {
            s.push_str(", PANIC");
        }
        if let Some(line) = self.error_lines().first() {
            s.push_str(": ");
            s.push_str(&shorten(line.trim_start_matches("error: "), 90));
        }
        s
    }

    /// Both streams, for assertion messages.
    pub fn explain(&self) -> String {
        format!(
            "exit {} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
    }

    /// The requests logged by `-v` (`METHOD PATH STATUS in N ms` lines), as `METHOD PATH`.
    pub fn logged_requests(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter_map(|l| {
                let (method, rest) = l.split_once(' ')?;
                let is_method = matches!(method, "GET" | "POST" | "PUT" | "PATCH" | "DELETE");
                let path = rest.split_once(' ')?.0;
                (is_method && path.starts_with('/') && !rest.contains(": retrying in "))
                    .then(|| format!("{method} {path}"))
            })
            .collect()
    }

    /// Parsed stdout (`-o json` runs).
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.stdout).ok()
    }
}

/// `s` cut to at most `max` characters, with an ellipsis when cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// A plugin command against `env`, with `args`, talking to the cluster (or to `kubeconfig`).
pub fn command(
    env: &Env,
    binary: &str,
    args: &[&str],
    kubeconfig: Option<&std::path::Path>,
) -> tokio::process::Command {
    let mut cmd = env.plugin(binary);
    cmd.args(args);
    if let Some(path) = kubeconfig {
        cmd.env("KUBECONFIG", path);
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stderr: &str) -> Run {
        Run {
            code: 3,
            stdout: String::new(),
            stderr: stderr.to_string(),
            elapsed: Duration::ZERO,
            hung: false,
        }
    }

    #[test]
    fn reads_error_lines_requests_and_panics() {
        let r = run("GET /api/v1/pods 503 Service Unavailable in 1 ms\n\
             GET /api/v1/pods: retrying in 100 ms (attempt 2 of 4)\n\
             GET /api/v1/pods 200 OK in 2 ms\n\
             error: forbidden: cannot list pods\n");
        assert_eq!(
            r.logged_requests(),
            ["GET /api/v1/pods", "GET /api/v1/pods"]
        );
        assert_eq!(r.one_error(), Some("error: forbidden: cannot list pods"));
        assert!(!r.panicked());
        assert!(run("thread 'main' panicked at src/x.rs").panicked());
        assert_eq!(r.summary(), "exit 3: forbidden: cannot list pods");
        assert_eq!(shorten("abcdef", 4), "abc…");
    }
}
