//! Showing a rollout's progress: a spinner with the status line on a terminal, plain lines
//! (one per change) when stderr is not one, nothing when progress is off.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

enum Mode {
    Off,
    Spinner(ProgressBar),
    Lines(Box<dyn Write + Send>),
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
            Mode::Lines(Box::new(std::io::stderr()))
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
        match &mut self.mode {
            Mode::Off => {}
            Mode::Spinner(bar) => bar.set_message(line.to_string()),
            Mode::Lines(out) => {
                let _ = writeln!(out, "{}: {line}", self.prefix);
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| std::io::ErrorKind::Other)?
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plain_lines_once_per_change() {
        let out = Shared::default();
        let mut p = Progress {
            mode: Mode::Lines(Box::new(out.clone())),
            prefix: "deployment/gw".into(),
            last: None,
        };
        for line in [
            "1 of 2 updated",
            "1 of 2 updated",
            "2 of 2 updated",
            "1 of 2 updated",
        ] {
            p.update(line);
        }
        assert_eq!(p.last(), Some("1 of 2 updated"));
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "deployment/gw: 1 of 2 updated\ndeployment/gw: 2 of 2 updated\ndeployment/gw: 1 of 2 updated\n"
        );
    }

    #[test]
    fn off_prints_nothing_but_remembers() {
        let mut p = Progress::new(false, "deployment/gw".into());
        p.update("x");
        assert_eq!(p.last(), Some("x"));
        assert!(matches!(p.mode, Mode::Off));
    }
}
