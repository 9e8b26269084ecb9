//! Randomised exploration with shuttle: uniformly random schedules or PCT (probabilistic
//! concurrency testing, which finds a bug of depth d with a probability it bounds from below).
//!
//! Invariant: runs are reproducible: the same config (seed included) explores the same
//! schedules and the same spurious wakeups, since both come from shuttle's seeded generator.

use std::sync::Arc;
use std::time::Instant;

use ::shuttle::scheduler::{PctScheduler, RandomScheduler};
use ::shuttle::{Config, FailurePersistence, Runner};

use super::{run_checker, Budget, Coverage, PctBound, Recorder, Report, RunEnd};
use crate::sync::spurious::{self, Policy};

/// Which schedules shuttle draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedules {
    /// Each step picks a runnable thread uniformly at random.
    Random,
    /// PCT with bug depth `depth`: random thread priorities and `depth - 1` priority changes.
    Pct { depth: usize },
}

/// How shuttle explores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShuttleConfig {
    pub schedules: Schedules,
    pub iterations: usize,
    pub seed: u64,
    /// Each wait wakes spuriously with probability `1/spurious_one_in`; 0 turns them off.
    pub spurious_one_in: u32,
    pub budget: Budget,
    /// Record each execution's primitive operations, so a failure comes with its trace.
    pub record_traces: bool,
}

impl ShuttleConfig {
    pub fn random(iterations: usize) -> Self {
        ShuttleConfig {
            schedules: Schedules::Random,
            iterations,
            seed: 0x7468_7265_6164,
            spurious_one_in: 0,
            budget: Budget::UNLIMITED,
            record_traces: true,
        }
    }

    pub fn pct(depth: usize, iterations: usize) -> Self {
        ShuttleConfig {
            schedules: Schedules::Pct { depth },
            ..Self::random(iterations)
        }
    }

    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Turns spurious wakeups on, each wait spurring with probability `1/one_in`.
    pub fn spurious_one_in(mut self, one_in: u32) -> Self {
        self.spurious_one_in = one_in;
        self
    }

    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// The settings as a report names them.
    pub fn describe(&self) -> String {
        let schedules = match self.schedules {
            Schedules::Random => "random".to_string(),
            Schedules::Pct { depth } => format!("pct depth {depth}"),
        };
        let spurious = match self.spurious_one_in {
            0 => "spurious wakeups off".to_string(),
            n => format!("spurious wakeups 1/{n}"),
        };
        format!(
            "shuttle ({schedules}, {} iterations, seed {:#x}, {spurious})",
            self.iterations, self.seed
        )
    }
}

/// Explores `body` under shuttle. `body` runs once per execution, inside the model, and must
/// use the [`crate::sync::Shuttle`] primitives; `invariant` judges each outcome.
pub fn explore<O, B, I>(config: &ShuttleConfig, body: B, invariant: I) -> Report<O>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    let started = Instant::now();
    let recorder = Arc::new(Recorder::new(config.budget, config.record_traces));
    let policy = match config.spurious_one_in {
        0 => Policy::Off,
        one_in => Policy::Coin { one_in },
    };
    let _installed = spurious::install(policy);
    let mut shuttle_config = Config::new();
    // Failures come back in the report; shuttle's own printing would only repeat them.
    shuttle_config.failure_persistence = FailurePersistence::None;
    shuttle_config.silence_warnings = true;
    let recorder_in = Arc::clone(&recorder);
    let execution = move || recorder_in.execute(&body, &invariant);
    let end = run_checker(|| match config.schedules {
        Schedules::Random => {
            let scheduler = RandomScheduler::new_from_seed(config.seed, config.iterations);
            Runner::new(scheduler, shuttle_config).run(execution);
        }
        Schedules::Pct { depth } => {
            let scheduler = PctScheduler::new_from_seed(config.seed, depth, config.iterations);
            Runner::new(scheduler, shuttle_config).run(execution);
        }
    });

    let executions = recorder.executions();
    let coverage = match end {
        RunEnd::Completed => Coverage::Sampled,
        RunEnd::OutOfBudget => Coverage::BudgetExhausted,
        RunEnd::Failed(..) => Coverage::StoppedAtFailure,
    };
    let failure = end.failure(executions, None);
    let largest_execution = recorder.largest_execution();
    let pct_miss_bound = match (config.schedules, largest_execution) {
        (Schedules::Pct { depth }, Some(shape)) if depth > 0 => Some(PctBound {
            threads: shape.threads,
            steps: shape.steps,
            depth,
            runs: executions,
        }),
        _ => None,
    };
    Report {
        checker: config.describe(),
        executions,
        outcomes: recorder.take_outcomes(),
        elapsed: started.elapsed(),
        coverage,
        failure,
        largest_execution,
        pct_miss_bound,
    }
}
