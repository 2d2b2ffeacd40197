//! Showing a rollout's progress: a spinner with the status line on a terminal, plain lines
//! (one per change) when stderr is not one, nothing when progress is off.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

enum Mode {
    Off,
    Spinner(ProgressBar),
    Lines,
}

/// Progress of one followed rollout, on stderr.
pub(crate) struct Progress {
    mode: Mode,
    prefix: String,
    last: Option<String>,
}

impl Progress {
    /// `enabled: false` shows nothing; otherwise a spinner on a terminal, else plain lines
    /// starting with `prefix` (`deployment/gw`).
    pub(crate) fn new(enabled: bool, prefix: String) -> Progress {
        let mode = if !enabled {
            Mode::Off
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {msg}")
            {
                bar.set_style(style);
            }
            bar.set_prefix(prefix.clone());
            bar.enable_steady_tick(Duration::from_millis(120));
            Mode::Spinner(bar)
        } else {
            Mode::Lines
        };
        Progress {
            mode,
            prefix,
            last: None,
        }
    }

    /// Shows `line` if it differs from the last one shown.
    pub(crate) fn update(&mut self, line: &str) {
        if self.last.as_deref() == Some(line) {
            return;
        }
        self.last = Some(line.to_string());
        match &self.mode {
            Mode::Off => {}
            Mode::Spinner(bar) => bar.set_message(line.to_string()),
            Mode::Lines => eprintln!("{}: {line}", self.prefix),
        }
    }

    /// The last status line shown (or that would have been).
    pub(crate) fn last(&self) -> Option<&str> {
        self.last.as_deref()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Mode::Spinner(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}
