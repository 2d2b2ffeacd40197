//! Progress of a running drain on stderr: a progress bar on a terminal, plain lines
//! (as kubectl prints them) otherwise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::drain::progress::{Change, DrainProgress};

/// Where progress goes.
pub struct Reporter {
    bar: Option<ProgressBar>,
}

impl Reporter {
    /// A reporter for `total` pods; with a bar when `terminal`.
    pub fn new(total: usize, terminal: bool) -> Self {
        let bar = terminal.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} pods gone {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        Reporter { bar }
    }

    /// Prints one line above the bar.
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    /// Refreshes the bar from the progress.
    pub fn update(&self, progress: &DrainProgress) {
        let Some(bar) = &self.bar else {
            return;
        };
        let c = progress.counts();
        bar.set_position(c.gone as u64);
        let blockers: Vec<String> = progress
            .blockers()
            .into_iter()
            .map(|(by, pods)| format!("{by} blocks {}", pods.len()))
            .collect();
        let mut msg = format!("{} terminating", c.terminating);
        if !blockers.is_empty() {
            msg.push_str(&format!(", {}", blockers.join(", ")));
        }
        if c.failed > 0 {
            msg.push_str(&format!(", {} failed", c.failed));
        }
        bar.set_message(msg);
    }

    /// Prints what changed for pod `i` (kubectl's wording) and refreshes the bar.
    pub fn change(&self, progress: &DrainProgress, i: usize, change: &Change) {
        if let Some(p) = progress.pods.get(i) {
            match change {
                Change::Gone => self.line(&format!("pod/{} evicted", p.name)),
                Change::Blocked {
                    by,
                    retry_in,
                    first: true,
                } => self.line(&format!(
                    "error when evicting pods/\"{}\" -n \"{}\" (will retry after {}s): blocked by {by}",
                    p.name,
                    p.namespace,
                    retry_in.as_secs().max(1)
                )),
                Change::Failed(error) => {
                    self.line(&format!("error when evicting pod {}: {error}", p.key()))
                }
                Change::Blocked { .. } | Change::Accepted | Change::None => {}
            }
        }
        self.update(progress);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
