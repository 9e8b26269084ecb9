//! The text `threadproof check` and `replay` print: outcome tables in the jcstress style, the
//! verdict table, and each failure's explanation with its replay command.
//!
//! Invariant: rendering only reads [`Checked`] values; it never re-runs anything, so what a
//! table says is exactly what the exploration found.

use std::fmt::Write as _;

use threadproof::explore::{Checker, Coverage};
use threadproof::scenarios::{Checked, Params};

/// Every reachable outcome with its count and grade.
pub fn outcome_table(checked: &Checked) -> String {
    let mut out = format!("{:>10}  {:<10}  outcome\n", "count", "grade");
    for (graded, count) in &checked.report.outcomes {
        let grade = if graded.acceptable {
            "ACCEPTABLE"
        } else {
            "FORBIDDEN"
        };
        let _ = writeln!(out, "{count:>10}  {grade:<10}  {}", graded.outcome);
    }
    out
}

/// How far the exploration got, in a word or two; a finished loom exploration with a
/// preemption bound names it, since it covered every interleaving within the bound only.
pub fn coverage(checked: &Checked) -> String {
    let bound = match &checked.checker {
        Checker::Loom(loom) => loom.preemption_bound,
        Checker::Shuttle(_) => None,
    };
    match (&checked.report.coverage, bound) {
        (Coverage::Exhaustive, Some(1)) => "within 1 preemption".into(),
        (Coverage::Exhaustive, Some(bound)) => format!("within {bound} preemptions"),
        (coverage, _) => coverage.describe().into(),
    }
}

/// The command that replays `checked`'s failure, if it failed: its token names the one
/// failing execution.
pub fn replay_command(checked: &Checked, params: &Params) -> Option<String> {
    let token = &checked.report.failure.as_ref()?.replay;
    let mut command = format!(
        "threadproof replay {} --variant {} --token {token}",
        checked.scenario, checked.variant
    );
    if let Some(threads) = params.threads {
        command += &format!(" --threads {threads}");
    }
    if let Some(n) = params.n {
        command += &format!(" --n {n}");
    }
    Some(command)
}

/// Everything about one exploration: summary, outcome table, and for a failure its
/// explanation, trace and replay command.
pub fn details(checked: &Checked, params: &Params) -> String {
    let mut out = format!(
        "== {} / {} / {}\n{}\n",
        checked.scenario,
        checked.variant,
        checked.checker,
        checked.report.summary()
    );
    if checked.report.unsupported().is_none() {
        out += &outcome_table(checked);
    }
    if let Some(failure) = &checked.report.failure {
        out += "\n";
        out += &failure.explain();
        if let Some(command) = replay_command(checked, params) {
            let _ = writeln!(out, "\nreplay: {command}");
        }
    }
    out
}

/// The verdict table: scenario x variant x checker, with executions, outcomes, coverage,
/// verdict and time.
pub fn verdict_table(all: &[Checked]) -> String {
    let header = [
        "scenario",
        "variant",
        "checker",
        "executions",
        "outcomes",
        "coverage",
        "verdict",
        "time",
    ];
    let rows: Vec<[String; 8]> = all
        .iter()
        .map(|c| {
            [
                c.scenario.to_string(),
                c.variant.to_string(),
                c.checker.kind().to_string(),
                c.report.executions.to_string(),
                c.report.outcomes.len().to_string(),
                coverage(c),
                c.verdict(),
                format!("{:.2?}", c.report.elapsed),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |cells: &[String]| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            // Numbers right-aligned, words left-aligned.
            if i == 3 || i == 4 {
                let _ = write!(text, "{cell:>width$}  ");
            } else {
                let _ = write!(text, "{cell:<width$}  ");
            }
        }
        text.trim_end().to_string() + "\n"
    };
    let mut out = line(&header.map(String::from));
    for row in &rows {
        out += &line(row);
    }
    out
}
