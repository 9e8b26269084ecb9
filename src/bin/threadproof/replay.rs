//! `threadproof replay`: one failing execution again, from the token `check` printed.
//!
//! Invariant: a replay succeeds only when the failure happens at the token's execution; a
//! failure elsewhere or none is exit status 1, with what happened instead.

use std::process::ExitCode;

use indicatif::ProgressBar;
use threadproof::explore::{self, Budget, Checker, ReplayToken};
use threadproof::scenarios::suite::CheckerChoice;
use threadproof::scenarios::{self, Params};

use crate::args::usage_error;
use crate::progress::with_spinner;
use crate::render;

pub fn replay(scenario: &str, variant: &str, token: &ReplayToken, params: &Params) -> ExitCode {
    let choice = match token.checker {
        Checker::Loom(_) => CheckerChoice::Loom,
        Checker::Shuttle(_) => CheckerChoice::Shuttle,
    };
    if let Some(refusal) = choice.environment_refusal() {
        usage_error("replay", refusal);
    }
    // A token that re-explores from a seed would get the environment's instead.
    if let Checker::Shuttle(config) = &token.checker {
        let env_seed = explore::shuttle::environment_seed().and_then(Result::ok);
        if config.replay.is_none() && env_seed.is_some_and(|seed| seed != config.seed) {
            usage_error(
                "replay",
                format!(
                    "refused: SHUTTLE_RANDOM_SEED is set and is not the seed {:#x} of \
                     {token}: unset it",
                    config.seed
                ),
            );
        }
    }
    let Some(s) = scenarios::find(scenario) else {
        usage_error("replay", format!("no scenario `{scenario}`"));
    };
    let checker = token
        .checker
        .clone()
        .with_budget(Budget::executions(token.execution));
    let spinner = ProgressBar::new_spinner();
    let label = format!("replaying {token}");
    let checked = match with_spinner(spinner, &label, checker.budget(), || {
        s.check(variant, &checker, params)
    }) {
        Ok(checked) => checked,
        Err(e) => usage_error("replay", format!("{scenario}: {e}")),
    };
    match &checked.report.failure {
        Some(failure) if failure.execution == token.execution => {
            println!("{}", render::details(&checked, params));
            println!(
                "reproduced: {} at execution {}",
                failure.kind, failure.execution
            );
            ExitCode::SUCCESS
        }
        Some(failure) => {
            println!("{}", render::details(&checked, params));
            eprintln!(
                "error: failed at execution {}, not at {}: the token does not match this build",
                failure.execution, token.execution
            );
            ExitCode::FAILURE
        }
        None => {
            eprintln!(
                "error: no failure in {} executions: {token} does not reproduce one",
                checked.report.executions
            );
            ExitCode::FAILURE
        }
    }
}
