//! Findings: what a check says about one object. Checks are pure functions that return these.

use serde::Serialize;

use crate::exit::{self, FailOn};

/// How bad a finding is. Ordered: `Info < Warning < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; never fails a run.
    Info,
    /// Degraded or risky; exit 1 unless `--fail-on=critical`.
    Warning,
    /// Broken now; exit 2.
    Critical,
}

impl Severity {
    /// The upper-case label printed in tables (meaning never relies on colour alone).
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// One observation: a check id, the object it is about, what is wrong and what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// Stable check id, for example `pod.crashloop` (see each plugin's catalog).
    pub check: String,
    /// `kind/namespace/name` (or `kind/name` for cluster-scoped objects).
    pub subject: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// What to run or change; may be empty for info.
    pub hint: String,
}

impl Finding {
    /// A finding with every field given.
    pub fn new(
        severity: Severity,
        check: &str,
        subject: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            check: check.to_string(),
            subject: subject.into(),
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// Shorthand for a critical finding.
    pub fn critical(
        check: &str,
        subject: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Critical, check, subject, message, hint)
    }

    /// Shorthand for a warning.
    pub fn warning(
        check: &str,
        subject: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Warning, check, subject, message, hint)
    }

    /// Shorthand for an info finding.
    pub fn info(
        check: &str,
        subject: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::new(Severity::Info, check, subject, message, hint)
    }
}

/// `kind/namespace/name`, or `kind/name` when `namespace` is empty.
pub fn subject(kind: &str, namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{kind}/{name}")
    } else {
        format!("{kind}/{namespace}/{name}")
    }
}

/// A check id with its one-line explanation: one entry of a plugin's catalog.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CheckInfo {
    /// Stable id, `area.what` (for example `svc.no-endpoints`).
    pub id: &'static str,
    /// The worst severity this check can report.
    pub severity: Severity,
    /// One line: what it detects and why it matters.
    pub summary: &'static str,
}

/// Sorts worst first, then by subject and check, so output is stable.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.check.cmp(&b.check))
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// Removes findings whose check id is in `ignored` (`--ignore`); an id ending in `.*`
/// ignores a whole area (`--ignore 'posture.*'`).
pub fn drop_ignored(findings: &mut Vec<Finding>, ignored: &[String]) {
    findings.retain(|f| {
        !ignored.iter().any(|i| match i.strip_suffix(".*") {
            Some(area) => f.check.starts_with(area) && f.check[area.len()..].starts_with('.'),
            None => *i == f.check,
        })
    });
}

/// The worst severity among `findings`, if any.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}

/// The exit code a report with these findings ends with, under `--fail-on` / `--exit-zero`.
pub fn exit_code_for(findings: &[Finding], fail_on: FailOn, exit_zero: bool) -> u8 {
    if exit_zero {
        return exit::OK;
    }
    match (worst(findings), fail_on) {
        (Some(Severity::Critical), _) => exit::FAILED,
        (Some(Severity::Warning), FailOn::Warning) => exit::WARNINGS,
        _ => exit::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Finding> {
        vec![
            Finding::info("pod.no-limits", "pod/a/b", "m", ""),
            Finding::critical("pod.crashloop", "pod/a/b", "m", "h"),
            Finding::warning("posture.single-replica", "deployment/a/b", "m", "h"),
        ]
    }

    #[test]
    fn sorts_worst_first() {
        let mut f = sample();
        sort_findings(&mut f);
        let sev: Vec<_> = f.iter().map(|f| f.severity).collect();
        assert_eq!(sev, [Severity::Critical, Severity::Warning, Severity::Info]);
    }

    #[test]
    fn exit_codes_follow_fail_on_and_exit_zero() {
        let f = sample();
        assert_eq!(exit_code_for(&f, FailOn::Warning, false), 2);
        assert_eq!(exit_code_for(&f, FailOn::Warning, true), 0);
        let warn_only: Vec<_> = f
            .iter()
            .filter(|f| f.severity != Severity::Critical)
            .cloned()
            .collect();
        assert_eq!(exit_code_for(&warn_only, FailOn::Warning, false), 1);
        assert_eq!(exit_code_for(&warn_only, FailOn::Critical, false), 0);
        assert_eq!(exit_code_for(&[], FailOn::Warning, false), 0);
    }

    #[test]
    fn ignore_by_id_and_by_area() {
        let mut f = sample();
        drop_ignored(&mut f, &["pod.crashloop".into()]);
        assert_eq!(f.len(), 2);
        let mut f = sample();
        drop_ignored(&mut f, &["pod.*".into()]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].check, "posture.single-replica");
    }
}
