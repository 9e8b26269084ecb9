//! A check's verdicts: each checker's report on one body, the table, the explanation of each
//! failure with the line that replays it, and what a passing check did not finish.
//!
//! Invariant: a check passes only if no checker found a failure and at least one passed (ran an
//! execution to its end, judged by the invariant); every replay line it prints compiles as printed, with the macro that made the body.

use std::fmt::{self, Write as _};

use crate::explore::NO_MODEL_THREAD;
use crate::explore::{CheckerKind, Coverage, Failure, Report};
use crate::std::sync::STATIC_DATA;

/// Each checker's report on one body.
#[derive(Clone, Debug)]
pub struct Verdicts<O> {
    pub reports: Vec<(CheckerKind, Report<O>)>,
    /// The macro that replays a failure of this body, for the printed replay line: `replay`
    /// for a body on the std mirror ([`crate::check!`]), `replay_backends` for one written
    /// over the per-backend paths ([`crate::check_backends!`]).
    pub replay_with: &'static str,
}

impl<O> Verdicts<O> {
    /// Whether no checker found a failure, and at least one passed ([`Report::passed`]: an
    /// execution ran to its end and the invariant judged it).
    pub fn passed(&self) -> bool {
        let failed = self.reports.iter().any(|(_, r)| r.failure.is_some());
        let explored = self.reports.iter().any(|(_, r)| r.passed());
        !failed && explored
    }

    /// The report of the checker of `kind`, if it is in the portfolio.
    pub fn report(&self, kind: CheckerKind) -> Option<&Report<O>> {
        self.reports
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, r)| r)
    }

    /// The failures found, by checker.
    pub fn failures(&self) -> impl Iterator<Item = (CheckerKind, &Failure)> {
        (self.reports.iter()).filter_map(|(kind, r)| r.failure.as_ref().map(|f| (*kind, f)))
    }

    /// One row per checker: executions, distinct outcomes, coverage, verdict, time.
    pub fn table(&self) -> String {
        let mut rows = vec![[
            "checker".to_string(),
            "executions".to_string(),
            "outcomes".to_string(),
            "coverage".to_string(),
            "verdict".to_string(),
            "time".to_string(),
        ]];
        for (kind, report) in &self.reports {
            let verdict = match (&report.failure, &report.coverage) {
                (Some(f), _) => format!("FAILED: {} at execution {}", f.kind, f.execution),
                (None, Coverage::Unsupported(why)) => format!("skipped: {}", why.reason),
                (None, _) if report.executions == 0 => "nothing explored".to_string(),
                (None, _) if report.judged() == 0 => {
                    "nothing judged: every execution cut".to_string()
                }
                (None, _) => "pass".to_string(),
            };
            // A row that did not run has no figures: whatever it counted before it stopped is
            // not an exploration.
            let ran = report.unsupported().is_none();
            let figure = |n: usize| if ran { n.to_string() } else { "-".to_string() };
            rows.push([
                kind.name().to_string(),
                figure(report.executions as usize),
                figure(report.outcomes.len()),
                report.coverage_words(),
                verdict,
                format!("{:.2?}", report.elapsed),
            ]);
        }
        let widths: Vec<usize> = (0..6)
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &rows {
            let mut line = String::new();
            for (c, cell) in row.iter().enumerate() {
                // Numbers right-aligned, words left-aligned.
                let cell = if matches!(c, 1 | 2) && (cell.parse::<u64>().is_ok() || cell == "-") {
                    format!("{cell:>width$}", width = widths[c])
                } else {
                    format!("{cell:<width$}", width = widths[c])
                };
                line += &cell;
                line += "  ";
            }
            out += line.trim_end();
            out.push('\n');
        }
        out
    }

    /// The table, what the checkers that ran cannot see, the first failure explained (its
    /// interleaving, its replay line), and where the others found one.
    pub fn explain(&self) -> String {
        let mut out = self.table();
        let mut blind: Vec<(Vec<&str>, String)> = Vec::new();
        for (kind, report) in &self.reports {
            if report.unsupported().is_some() || report.blind_spots.is_empty() {
                continue;
            }
            let spots = report.blind_spots.join("; ");
            match blind.iter_mut().find(|(_, s)| *s == spots) {
                Some((kinds, _)) => kinds.push(kind.name()),
                None => blind.push((vec![kind.name()], spots)),
            }
        }
        for (kinds, spots) in blind {
            let _ = writeln!(out, "{} cannot see: {spots}", kinds.join(", "));
        }
        for line in self.skipped() {
            let _ = writeln!(out, "{line}");
        }
        let mut failures = self.failures();
        if let Some((kind, failure)) = failures.next() {
            // Only the line that compiles as printed: `replay!` takes the check's own body and
            // invariant, which `explore::replay` does not.
            let _ = write!(out, "\n{kind}: {}", failure.describe());
            let _ = writeln!(out, "\n{}", self.replay_line(failure));
        }
        for (kind, failure) in failures {
            let _ = writeln!(
                out,
                "\n{kind} found one too: {}\n{}",
                failure.headline(),
                self.replay_line(failure)
            );
        }
        out
    }

    /// The line that replays `failure` in a test, with the macro that takes this body.
    fn replay_line(&self, failure: &Failure) -> String {
        format!(
            "replay it in a test: threadproof::{}!(\"{}\", <the same body>, <the same invariant>)",
            self.replay_with, failure.replay
        )
    }

    /// One line for each checker whose budget cut its exploration short, without a failure:
    /// what a pass does not cover.
    pub fn unfinished(&self) -> Vec<String> {
        (self.reports.iter())
            .filter(|(_, r)| r.failure.is_none() && r.coverage == Coverage::BudgetExhausted)
            .map(|(kind, r)| {
                format!(
                    "threadproof::check!: {kind} did not finish: {} after {} executions; the \
                     pass covers only what it explored",
                    r.coverage_words(),
                    r.executions
                )
            })
            .collect()
    }

    /// What a pass must not hide beside [`Verdicts::unfinished`]: a checker that could not run
    /// the body, and why (the table's `skipped` says only what); a body that spawned no model
    /// thread was checked as one thread, with no interleaving (a library still on
    /// `std::thread`, say); a static lock whose data every execution after the first found as
    /// the one before left it, so that those executions did not start where the program does.
    pub fn notes(&self) -> Vec<String> {
        let passing_with = |spot: &str| {
            (self.reports.iter())
                .any(|(_, r)| r.failure.is_none() && r.blind_spots.iter().any(|s| s == spot))
        };
        let mut notes = self.skipped();
        if passing_with(NO_MODEL_THREAD) {
            notes.push(format!("threadproof::check!: {NO_MODEL_THREAD}"));
        }
        if passing_with(STATIC_DATA) {
            notes.push(format!(
                "threadproof::check!: every execution after the first saw {STATIC_DATA}"
            ));
        }
        notes
    }

    /// A line for each checker that could not run the body: why, where, and what can.
    fn skipped(&self) -> Vec<String> {
        (self.reports.iter())
            .filter(|(_, r)| r.failure.is_none())
            .filter_map(|(kind, r)| Some((kind, r.unsupported()?)))
            .map(|(kind, why)| format!("threadproof::check!: {kind} did not run: {why}"))
            .collect()
    }

    /// These verdicts, or a panic that explains them if the check did not pass: what a test
    /// wants. A pass prints a line for each checker that did not finish, and the
    /// [`Verdicts::notes`].
    #[track_caller]
    pub fn assert(self) -> Self {
        self.assert_complete(false)
    }

    /// [`Verdicts::assert`], and, if `required`, a panic too when a checker did not finish
    /// ([`Portfolio::require_complete`](super::Portfolio::require_complete)).
    #[track_caller]
    pub fn assert_complete(self, required: bool) -> Self {
        if !self.passed() {
            panic!("threadproof::check! failed:\n{}", self.explain());
        }
        let unfinished = self.unfinished();
        if required && !unfinished.is_empty() {
            panic!(
                "threadproof::check! failed: complete exploration required\n{}\n{}",
                unfinished.join("\n"),
                self.explain()
            );
        }
        for line in unfinished.into_iter().chain(self.notes()) {
            eprintln!("{line}");
        }
        self
    }
}

impl<O> fmt::Display for Verdicts<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explain())
    }
}
