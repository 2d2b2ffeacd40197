//! The fault matrix (issue 10): every plugin run against the test cluster under latency,
//! server errors, dropped connections, refused calls, malformed answers, conflicts, dropped
//! watches, Ctrl-C and hostile input. The end-to-end tests assert each [`Case`]; the
//! `fault-report` command runs the same cases and prints the table.
//!
//! A case *survives* when the plugin did what [`Fault::expected`] says; it *loses* something
//! when the cluster was left in a state nobody asked for (a change applied twice, a concurrent
//! change overwritten, a half-done change left unexplained).

pub mod calls;
pub mod common;
pub mod drain;
pub mod front;
pub mod input;
pub mod plugins;
pub mod resize;
pub mod run;

pub use plugins::{PLUGINS, Plugin};

/// A kind of fault, with what every plugin must do under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 200 ms per request with `--request-timeout 100ms`.
    Latency,
    /// The first reads answer 503, 503, 500.
    ReadErrors,
    /// The first reads lose their connection.
    ReadResets,
    /// Every read answers 503.
    ReadErrorsForever,
    /// Every request answers 401.
    Unauthorized,
    /// Each call the plugin makes, refused by RBAC in turn.
    ForbiddenEachCall,
    /// Each call the plugin makes, answered 404 in turn.
    NotFoundEachCall,
    /// Every answer cut in half.
    TruncatedAnswers,
    /// Every object carries fields no schema knows.
    UnknownFields,
    /// Every object lacks `status`.
    MissingStatus,
    /// Malformed, empty, huge and hostile values for every flag that takes one.
    BadInput,
    /// A normal run watched for Secret reads and token leaks.
    SecretsAndToken,
    /// Every write answers 503.
    WriteErrors,
    /// Every write loses its connection.
    WriteResets,
    /// Someone else changes the object between the plugin's read and its write.
    ConcurrentChange,
    /// The write answers 409 once though nothing else changed.
    SpuriousConflict,
    /// Watches end after one event during the rollout.
    WatchDrops,
    /// Resumed watches answer 410 Expired.
    WatchExpired,
    /// Ctrl-C while reading, before anything is sent.
    InterruptBeforeSend,
    /// Ctrl-C once the change was sent, while following it; then the same command again.
    InterruptAfterSend,
    /// Evictions answered 429 (a PodDisruptionBudget) for longer than `--timeout`.
    EvictionsRefused,
}

impl Fault {
    /// Every fault, in report order.
    pub const ALL: [Fault; 21] = [
        Fault::Latency,
        Fault::ReadErrors,
        Fault::ReadResets,
        Fault::ReadErrorsForever,
        Fault::Unauthorized,
        Fault::ForbiddenEachCall,
        Fault::NotFoundEachCall,
        Fault::TruncatedAnswers,
        Fault::UnknownFields,
        Fault::MissingStatus,
        Fault::BadInput,
        Fault::SecretsAndToken,
        Fault::WriteErrors,
        Fault::WriteResets,
        Fault::ConcurrentChange,
        Fault::SpuriousConflict,
        Fault::WatchDrops,
        Fault::WatchExpired,
        Fault::InterruptBeforeSend,
        Fault::InterruptAfterSend,
        Fault::EvictionsRefused,
    ];

    /// Short id (`latency`, `read-5xx`), used in test names and the report.
    pub fn id(self) -> &'static str {
        match self {
            Fault::Latency => "latency",
            Fault::ReadErrors => "read-5xx",
            Fault::ReadResets => "read-reset",
            Fault::ReadErrorsForever => "read-5xx-always",
            Fault::Unauthorized => "401",
            Fault::ForbiddenEachCall => "403-each-call",
            Fault::NotFoundEachCall => "404-each-call",
            Fault::TruncatedAnswers => "truncated-json",
            Fault::UnknownFields => "unknown-fields",
            Fault::MissingStatus => "missing-status",
            Fault::BadInput => "bad-input",
            Fault::SecretsAndToken => "secrets-token",
            Fault::WriteErrors => "write-5xx",
            Fault::WriteResets => "write-reset",
            Fault::ConcurrentChange => "409-concurrent",
            Fault::SpuriousConflict => "409-spurious",
            Fault::WatchDrops => "watch-drop",
            Fault::WatchExpired => "watch-410",
            Fault::InterruptBeforeSend => "sigint-reading",
            Fault::InterruptAfterSend => "sigint-following",
            Fault::EvictionsRefused => "429-evictions",
        }
    }

    /// What every plugin must do under this fault (the EXPECTED column).
    pub fn expected(self) -> &'static str {
        match self {
            Fault::Latency => "exit 3, one timeout line",
            Fault::ReadErrors | Fault::ReadResets => "retried: same result as without fault",
            Fault::ReadErrorsForever => "exit 3 within 15s, <=4 tries per read",
            Fault::Unauthorized => "exit 3, one line: unauthorised",
            Fault::ForbiddenEachCall => "each refusal named (verb, resource)",
            Fault::NotFoundEachCall => "no panic, exit 0-3, one line if 3",
            Fault::TruncatedAnswers => "exit 3, one line, no panic",
            Fault::UnknownFields => "same result as without fault",
            Fault::MissingStatus => "no panic, exit 0-3",
            Fault::BadInput => "exit 64 (3 if not found), no panic",
            Fault::SecretsAndToken => "no Secret read, token never printed",
            Fault::WriteErrors | Fault::WriteResets => "sent once, nothing changed, one line",
            Fault::ConcurrentChange => "re-read, re-planned, not overwritten",
            Fault::SpuriousConflict => "re-read, sent again, applied once",
            Fault::WatchDrops => "watch resumed, exit 0",
            Fault::WatchExpired => "re-listed, exit 0",
            Fault::InterruptBeforeSend => "exit 130, nothing changed",
            Fault::InterruptAfterSend => "exit 130, summary; rerun resumes",
            Fault::EvictionsRefused => "exit 2, PDB and pods named, stays cordoned",
        }
    }
}

/// One row of the matrix: a fault against a plugin.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    /// The fault.
    pub fault: Fault,
    /// The plugin.
    pub plugin: &'static Plugin,
}

impl Case {
    /// `fault/plugin`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.fault.id(), self.plugin.name)
    }

    /// Runs the case on its own freshly started cluster(s).
    pub async fn run(&self) -> Verdict {
        let p = self.plugin;
        match self.fault {
            Fault::Latency => common::latency(p).await,
            Fault::ReadErrors => common::read_errors(p, false).await,
            Fault::ReadResets => common::read_errors(p, true).await,
            Fault::ReadErrorsForever => common::read_errors_forever(p).await,
            Fault::Unauthorized => common::unauthorized(p).await,
            Fault::ForbiddenEachCall => calls::refuse_each_call(p, calls::Refusal::Forbidden).await,
            Fault::NotFoundEachCall => calls::refuse_each_call(p, calls::Refusal::NotFound).await,
            Fault::TruncatedAnswers => common::malformed(p, front::Mangle::Truncate).await,
            Fault::UnknownFields => common::malformed(p, front::Mangle::UnknownFields).await,
            Fault::MissingStatus => common::malformed(p, front::Mangle::DropStatus).await,
            Fault::BadInput => input::bad_input(p).await,
            Fault::SecretsAndToken => common::secrets_and_token(p).await,
            Fault::WriteErrors => resize::write_fails(p, false).await,
            Fault::WriteResets => resize::write_fails(p, true).await,
            Fault::ConcurrentChange => resize::concurrent_change(p).await,
            Fault::SpuriousConflict => resize::spurious_conflict(p).await,
            Fault::WatchDrops => resize::watch_drops(p, false).await,
            Fault::WatchExpired => resize::watch_drops(p, true).await,
            Fault::InterruptBeforeSend => resize::interrupt_before_send(p).await,
            Fault::InterruptAfterSend => resize::interrupt_after_send(p).await,
            Fault::EvictionsRefused => drain::evictions_refused(p).await,
        }
    }
}

/// Every case of the matrix: each fault against each plugin it applies to.
pub fn cases() -> Vec<Case> {
    Fault::ALL
        .iter()
        .flat_map(|&fault| {
            PLUGINS
                .iter()
                .filter(move |p| p.applies(fault))
                .map(move |plugin| Case { fault, plugin })
        })
        .collect()
}

/// The case `fault_id/plugin`.
pub fn case(fault_id: &str, plugin: &str) -> Case {
    cases()
        .into_iter()
        .find(|c| c.fault.id() == fault_id && c.plugin.name == plugin)
        .unwrap_or_else(|| panic!("no case {fault_id}/{plugin} in the matrix"))
}

/// Runs a case and fails the test with what went wrong.
pub async fn assert_case(fault_id: &str, plugin: &str) {
    let case = case(fault_id, plugin);
    let verdict = case.run().await;
    assert!(
        verdict.survived(),
        "{}: expected {}; observed {}\nproblems:\n  {}\nlost:\n  {}",
        case.id(),
        case.fault.expected(),
        verdict.observed,
        verdict.problems.join("\n  "),
        verdict.lost.join("\n  ")
    );
}

/// What a case observed.
#[derive(Clone, Debug, Default)]
pub struct Verdict {
    /// One line: what happened (the OBSERVED column).
    pub observed: String,
    /// Expectations not met (with the plugin's output).
    pub problems: Vec<String>,
    /// Damage to the cluster's state.
    pub lost: Vec<String>,
}

impl Verdict {
    /// A verdict observing `observed`.
    pub fn new(observed: impl Into<String>) -> Verdict {
        Verdict {
            observed: observed.into(),
            ..Verdict::default()
        }
    }

    /// Records `problem` unless `ok`.
    pub fn expect(&mut self, ok: bool, problem: impl FnOnce() -> String) {
        if !ok {
            self.problems.push(problem());
        }
    }

    /// Records damage `what` when `damaged`.
    pub fn lost_if(&mut self, damaged: bool, what: impl FnOnce() -> String) {
        if damaged {
            self.lost.push(what());
        }
    }

    /// Every expectation met and nothing lost.
    pub fn survived(&self) -> bool {
        self.problems.is_empty() && self.lost.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_ids_are_unique_and_every_fault_is_tried() {
        let all = cases();
        let mut ids: Vec<String> = all.iter().map(Case::id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for fault in Fault::ALL {
            assert!(
                all.iter().any(|c| c.fault == fault),
                "{} applies to no plugin",
                fault.id()
            );
        }
    }
}
