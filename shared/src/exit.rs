//! The suite's exit codes: one table for all four plugins (the README repeats it).

use clap::ValueEnum;

/// 0: healthy, or the requested action completed.
pub const OK: u8 = 0;
/// 1: warnings found.
pub const WARNINGS: u8 = 1;
/// 2: critical findings, or the requested action failed (rollout failed, drain incomplete).
pub const FAILED: u8 = 2;
/// 3: could not check (unreachable, unauthorised, forbidden, not found, timeout).
pub const CANNOT_CHECK: u8 = 3;
/// 64: usage error or bad input (EX_USAGE; clap's own 2 never leaks).
pub const USAGE: u8 = 64;
/// 130: interrupted by Ctrl-C (128 + SIGINT).
pub const INTERRUPTED: u8 = 130;

/// Which findings make a report exit non-zero (`--fail-on`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Warnings exit 1 and critical findings exit 2 (the default).
    #[default]
    Warning,
    /// Only critical findings fail the run (exit 2); warnings exit 0.
    Critical,
}
