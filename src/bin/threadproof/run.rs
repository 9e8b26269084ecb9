//! `threadproof run`: a scenario (or every one) on production primitives, its output printed
//! as the Python notes print it.
//!
//! Invariant: every scenario's parameters are validated before any of them runs, so bad
//! arguments print nothing but the usage error.

use std::process::ExitCode;

use threadproof::scenarios::{AnyScenario, Params, Production, ScenarioError};

use crate::args::usage_error;

pub fn run(scenario: Option<&str>, backend: Production, params: &Params) -> ExitCode {
    let chosen = crate::chosen(scenario);
    let several = chosen.len() > 1;
    // With every scenario chosen, --threads and --n go to those that take them.
    let fitted = |s: &dyn AnyScenario| {
        if several {
            params.only(s.params())
        } else {
            params.clone()
        }
    };
    for s in &chosen {
        if let Err(e) = s.validate(&fitted(*s)) {
            usage_error("run", format!("{}: {e}", s.name()));
        }
    }
    for s in chosen {
        match s.run(backend, &fitted(s)) {
            Ok(output) => {
                if several {
                    println!("== {} ==", s.name());
                }
                print!("{output}");
                if !output.ends_with('\n') {
                    println!();
                }
            }
            Err(ScenarioError::Config(e)) => usage_error("run", format!("{}: {e}", s.name())),
            Err(ScenarioError::Run(e)) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
