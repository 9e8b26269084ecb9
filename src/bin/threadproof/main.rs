//! The `threadproof` command: run the patterns on production primitives and print what the
//! Python notes print; model-check them and gate on the verdicts; replay a failure.
//!
//! Invariant: the binary parses arguments and prints; the library runs and judges (see
//! `threadproof::scenarios::suite`). Bad arguments (an unknown scenario, variant or backend,
//! zero threads, a non-number, a malformed replay token, a report that cannot be written) end with
//! a message on stderr and exit status 2, before anything runs; a failed run or an unexpected
//! verdict ends with exit status 1; nothing panics or hangs on bad input.

mod args;
mod check;
mod fixtures;
mod progress;
mod render;
mod replay;
mod run;

use std::process::ExitCode;

use clap::Parser;
use threadproof::scenarios::{self, AnyScenario};

use crate::args::{Cli, Command};

/// The scenario named, or every scenario.
fn chosen(scenario: Option<&str>) -> Vec<&'static dyn AnyScenario> {
    match scenario {
        Some(name) => scenarios::find(name).into_iter().collect(),
        None => scenarios::ALL.to_vec(),
    }
}

fn main() -> ExitCode {
    // The analogue of Python's `if __name__ == "__main__":` a worker process started by a
    // process pool or a manager serves its parent here and never returns; this binary's
    // workers also serve the test suite's fault fixtures.
    threadproof::process::worker_main_if_worker_with(fixtures::registry);
    match Cli::parse().command {
        Command::Run {
            scenario,
            backend,
            params,
        } => run::run(scenario.as_deref(), backend.into(), &(&params).into()),
        Command::Check(args) => check::check(args),
        Command::Replay {
            scenario,
            variant,
            token,
            params,
        } => replay::replay(&scenario, &variant, &token, &(&params).into()),
        Command::List { kill_matrix: true } => {
            print!("{}", scenarios::kill_table());
            ExitCode::SUCCESS
        }
        Command::List { kill_matrix: false } => {
            for scenario in scenarios::ALL {
                println!("{} (notes {})", scenario.name(), scenario.notes_cell());
                for (variant, bug) in scenario.variants() {
                    match bug {
                        None => println!("  {variant}"),
                        Some(bug) => println!("  {variant} (mutant: {bug})"),
                    }
                }
            }
            ExitCode::SUCCESS
        }
    }
}
