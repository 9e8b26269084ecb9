//! What a failing execution's trace means, in words: the threads a deadlock leaves waiting
//! and on what, who woke whom, which threads a failure is about, and the step-by-step columns
//! and swimlane labels the reports print. The model runtime records the data
//! ([`crate::sync::trace`]); everything here reads it and writes text for people.
//!
//! Invariant: nothing here changes a trace or is consulted while an exploration runs; it is
//! called only for the execution that is printed. The methods are inherent methods of
//! [`Trace`], [`Event`] and [`Op`] (defined here, above the data), so that a report calls
//! `trace.columns()` without knowing which module renders it.
//!
//! ```text
//!   deadlock.rs   each thread's last row, who is still waiting, on what, held by whom
//!   involved.rs   who woke each wait; the threads a failure is about
//!   columns.rs    each row's text, the columns, the swimlane symbols
//! ```

mod columns;
mod deadlock;
mod involved;

use crate::sync::trace::Event;
#[cfg(doc)]
use crate::sync::trace::{Op, Trace};

/// A source file as a trace names it: relative to its crate (`src/scenarios/turns.rs`,
/// `models/reports.rs`) for the crate being built, whose paths the compiler gives relative; from
/// `src/` on for a dependency's absolute path; the file name otherwise.
pub(crate) fn short_file(file: &str) -> &str {
    if !file.starts_with('/') {
        return file;
    }
    match file.find("/src/") {
        Some(i) => &file[i + 1..],
        None => file.rsplit('/').next().unwrap_or(file),
    }
}

impl Event {
    /// `file:line` of the call, the file relative to the crate for this crate's sources.
    pub fn place(&self) -> String {
        format!(
            "{}:{}",
            short_file(self.location.file()),
            self.location.line()
        )
    }
}
