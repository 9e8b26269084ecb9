//! Spinners on stderr while explorations run: one line per running exploration with its
//! executions and time, and one for the count finished (hidden when stderr is not a terminal).
//!
//! Invariant: progress goes to stderr only, and [`Spinners::suspend`] clears it around every
//! line printed to stdout, so stdout is the same with or without a terminal.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use threadproof::explore::{self, Budget};
use threadproof::scenarios::suite::Watch;
use threadproof::scenarios::{Checked, ScenarioError};

/// A spinner per running exploration above a count of those finished.
pub struct Spinners {
    all: MultiProgress,
    overall: ProgressBar,
}

impl Spinners {
    pub fn new(explorations: usize) -> Self {
        let all = MultiProgress::new();
        let overall = all.add(ProgressBar::new(explorations as u64));
        overall.set_style(
            ProgressStyle::with_template("{pos}/{len} explorations, {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Spinners { all, overall }
    }

    /// Runs `print` with the spinners cleared from the terminal.
    pub fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        self.all.suspend(print)
    }

    pub fn finish(&self) {
        self.overall.finish_and_clear();
    }
}

impl Watch for Spinners {
    fn exploring(
        &self,
        label: &str,
        budget: Budget,
        explore: &mut dyn FnMut() -> Result<Checked, ScenarioError>,
    ) -> Result<Checked, ScenarioError> {
        let spinner = self
            .all
            .insert_before(&self.overall, ProgressBar::new_spinner());
        with_spinner(spinner, label, budget, explore)
    }

    fn finished(&self) {
        self.overall.inc(1);
    }
}

/// Runs `exploration` under `spinner`, showing executions and time.
pub fn with_spinner<R>(
    spinner: ProgressBar,
    label: &str,
    budget: Budget,
    exploration: impl FnOnce() -> R,
) -> R {
    spinner.set_message(label.to_string());
    let limit = budget
        .max_executions
        .map(|m| format!(" / {m}"))
        .unwrap_or_default();
    spinner.set_style(
        ProgressStyle::with_template(&format!(
            "{{spinner}} {{msg}}: {{pos}}{limit} executions, {{elapsed}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    spinner.enable_steady_tick(Duration::from_millis(200));
    let progress = spinner.clone();
    let result = explore::with_progress(
        move |executions| progress.set_position(executions),
        exploration,
    );
    spinner.finish_and_clear();
    result
}
