//! `threadproof check`: the explorations the flags choose, each result printed in order as it
//! comes, then the verdict table, the optional HTML report and the gate's exit status.
//!
//! Invariant: what runs and what passes is decided by `threadproof::scenarios::suite`; this
//! file only refuses bad flags and prints. A report that cannot be written is refused before
//! anything is explored, and is written to a temporary file renamed into place, so an
//! interrupted run leaves no partial report.

use std::process::ExitCode;
use std::time::Duration;

use threadproof::explore::{Budget, Checker};
use threadproof::scenarios::suite::{self, CheckerChoice, Gate};
use threadproof::scenarios::{Checked, Params};

use crate::args::{usage_error, CheckArgs};
use crate::progress::Spinners;
use crate::render;

pub fn check(args: CheckArgs) -> ExitCode {
    // Nothing explored is never a pass: refuse settings that explore nothing, and
    // environment variables that would change the exploration behind our back.
    if args.budget == 0 {
        usage_error(
            "check",
            "--budget 0 explores nothing: give at least 1 execution".into(),
        );
    }
    if args.timeout == 0 {
        usage_error(
            "check",
            "--timeout 0 explores nothing: give at least 1 second".into(),
        );
    }
    if args.iterations == 0 {
        usage_error(
            "check",
            "--iterations 0 explores nothing: give at least 1 schedule".into(),
        );
    }
    let choice = CheckerChoice::from(args.checkers);
    if let Some(refusal) = choice.environment_refusal() {
        usage_error("check", refusal);
    }
    let budget = Budget {
        max_executions: Some(args.budget),
        max_time: Some(Duration::from_secs(args.timeout)),
        max_stall: None,
    };
    let checkers = choice.checkers(args.iterations, budget);
    let mut instead = choice.instead(args.iterations, budget);
    let jobs = args
        .jobs
        .unwrap_or_else(threadproof::explore::shuttle::default_jobs);
    let params = Params::from(&args.params);
    let chosen = crate::chosen(args.scenario.as_deref());
    for s in &chosen {
        if let Err(e) = s.validate(&params) {
            usage_error("check", format!("{}: {e}", s.name()));
        }
    }
    // A report that cannot be written is a bad argument, found before minutes of exploring.
    let report = args
        .report
        .as_deref()
        .map(|path| match render::ReportFile::create(path) {
            Ok(file) => file,
            Err(e) => usage_error(
                "check",
                format!("cannot write the report {}: {e}", path.display()),
            ),
        });
    let mut explorations = suite::explorations(&chosen, &checkers, args.mutants);
    // Fewer explorations than jobs: each shuttle one spreads its schedules over the threads
    // left (its report is the same for any number of them).
    let workers = (jobs / explorations.len().max(1)).max(1);
    let checkers_of = explorations.iter_mut().map(|e| &mut e.checker);
    for checker in checkers_of.chain(instead.iter_mut()) {
        if let Checker::Shuttle(config) = checker {
            config.jobs = workers;
        }
    }
    let spinners = Spinners::new(explorations.len());
    let mut results: Vec<Checked> = Vec::new();
    suite::explore_in_order(
        &explorations,
        &params,
        jobs,
        &instead,
        &spinners,
        |explored| {
            let checked = match explored {
                Ok(checked) => checked,
                Err((s, e)) => usage_error("check", format!("{s}: {e}")),
            };
            let ran_instead = checked.len() > 1;
            for (i, checked) in checked.into_iter().enumerate() {
                let unsupported = checked.report.unsupported().is_some();
                if args.verbose
                    || !checked.as_expected()
                    || checked.report.failure.is_some()
                    || unsupported
                {
                    spinners.suspend(|| println!("{}", render::details(&checked, &params)));
                }
                if i == 0 && ran_instead {
                    let kinds: Vec<&str> = instead.iter().map(|c| c.kind().name()).collect();
                    spinners.suspend(|| {
                        println!(
                            "{} / {}: {} cannot run it; checking it with {} instead\n",
                            checked.scenario,
                            checked.variant,
                            checked.checker.kind(),
                            spoken_list(&kinds)
                        )
                    });
                }
                results.push(checked);
            }
        },
    );
    spinners.finish();
    println!("{}", render::verdict_table(&results));
    if let Some(report) = report {
        let path = report.path().display().to_string();
        if let Err(e) = report.write(&render::html(&results, &params)) {
            eprintln!("error: cannot write {path}: {e}");
            return ExitCode::FAILURE;
        }
        println!("report written to {path}");
    }
    gate(&Gate::new(&results), args.require_complete)
}

/// Prints the gate's reading and gives `check`'s exit status: 1 on any unexpected verdict, on
/// a variant that no checker could run (nothing checked it), and with `--require-complete` on
/// any exploration that did not finish. An exploration its checker could not run is neither a
/// pass nor a failure: `check` says what it did instead (nothing) and which checker can.
fn gate(gate: &Gate, require_complete: bool) -> ExitCode {
    for c in &gate.not_run {
        if let Some(why) = c.report.unsupported() {
            println!(
                "not run: {} / {} / {}: {why}",
                c.scenario,
                c.variant,
                c.checker.kind()
            );
        }
    }
    if gate.unexpected > 0 {
        eprintln!("error: {} unexpected verdict(s)", gate.unexpected);
    }
    if !gate.unchecked.is_empty() {
        eprintln!(
            "error: nothing checked {}: no chosen checker could run it",
            gate.unchecked.join(", ")
        );
    }
    if require_complete && gate.incomplete > 0 {
        eprintln!(
            "error: {} exploration(s) did not finish (cut by the budget, or not run), \
             and --require-complete asks that every one does",
            gate.incomplete
        );
    }
    if !gate.passed(require_complete) {
        return ExitCode::FAILURE;
    }
    let all = gate.results.len();
    match gate.not_run.len() {
        0 => println!("all {all} verdicts as expected"),
        n => println!(
            "all {} verdicts as expected; {n} exploration(s) not run (see above)",
            all - n
        ),
    }
    ExitCode::SUCCESS
}

/// `a`, `a and b`, `a, b and c`.
fn spoken_list(items: &[&str]) -> String {
    match items {
        [rest @ .., last] if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        items => items.join(""),
    }
}
