//! Exhaustive exploration with loom: every interleaving within the preemption bound, and with
//! spurious wakeups on, every placement of up to `spurious_wakeups` of them.
//!
//! Invariant: [`Coverage::Exhaustive`] is reported only when loom finished every spurious plan;
//! a budget stop says so, and the outcomes are then a lower bound.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use super::{run_checker, Budget, Coverage, Recorder, Report, RunEnd};
use crate::sync::spurious::{self, Plan, Policy};

/// How deep loom explores.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoomConfig {
    /// At most this many preemptions per execution; `None` explores every interleaving.
    pub preemption_bound: Option<usize>,
    /// At most this many spurious condvar wakeups per execution; 0 turns them off.
    pub spurious_wakeups: usize,
    pub budget: Budget,
    /// Loom's limit on branch points in one execution (it fails an execution past it).
    pub max_branches: usize,
    /// Record each execution's primitive operations, so a failure comes with its trace.
    pub record_traces: bool,
}

impl Default for LoomConfig {
    fn default() -> Self {
        LoomConfig {
            preemption_bound: None,
            spurious_wakeups: 0,
            budget: Budget::UNLIMITED,
            max_branches: 100_000,
            record_traces: true,
        }
    }
}

impl LoomConfig {
    /// Every interleaving, no spurious wakeups.
    pub fn exhaustive() -> Self {
        Self::default()
    }

    pub fn preemption_bound(mut self, bound: usize) -> Self {
        self.preemption_bound = Some(bound);
        self
    }

    pub fn spurious_wakeups(mut self, at_most: usize) -> Self {
        self.spurious_wakeups = at_most;
        self
    }

    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// The settings as a report names them.
    pub fn describe(&self) -> String {
        let preemptions = match self.preemption_bound {
            None => "no preemption bound".to_string(),
            Some(b) => format!("preemption bound {b}"),
        };
        let spurious = match self.spurious_wakeups {
            0 => "spurious wakeups off".to_string(),
            n => format!("spurious wakeups <= {n}"),
        };
        format!("loom ({preemptions}, {spurious})")
    }
}

/// Explores `body` under loom. `body` runs once per execution, inside the model, and must use
/// the [`crate::sync::Loom`] primitives; `invariant` judges each outcome.
pub fn explore<O, B, I>(config: &LoomConfig, body: B, invariant: I) -> Report<O>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    let started = Instant::now();
    let recorder = Arc::new(Recorder::new(config.budget, config.record_traces));
    let checked = Arc::new((body, invariant));
    let mut plans = VecDeque::from([Plan::default()]);
    let mut end = RunEnd::Completed;
    let mut failing_plan = None;

    while let Some(plan) = plans.pop_front() {
        let policy = match config.spurious_wakeups {
            0 => Policy::Off,
            _ => Policy::Plan(plan.clone()),
        };
        let _installed = spurious::install(policy);
        let mut builder = ::loom::model::Builder::new();
        builder.preemption_bound = config.preemption_bound;
        builder.max_branches = config.max_branches;
        // Our budget is checked per execution; loom's own limits would only be checked every
        // 20,000 executions and end the run silently.
        builder.max_duration = None;
        builder.max_permutations = None;
        let (recorder_in, checked_in) = (Arc::clone(&recorder), Arc::clone(&checked));
        end = run_checker(|| {
            builder.check(move || recorder_in.execute(&checked_in.0, &checked_in.1))
        });
        match end {
            RunEnd::Completed if plan.0.len() < config.spurious_wakeups => {
                // Extend the plan by one more spurious wait at each ordinal past its last one
                // that some execution under it reached.
                let first = plan.0.last().map_or(0, |last| last + 1);
                for ordinal in first..spurious::most_waits() {
                    let mut next = plan.0.clone();
                    next.push(ordinal);
                    plans.push_back(Plan(next));
                }
            }
            RunEnd::Completed => {}
            _ => {
                failing_plan = Some(plan);
                break;
            }
        }
    }

    let executions = recorder.executions();
    let coverage = match end {
        RunEnd::Completed => Coverage::Exhaustive,
        RunEnd::OutOfBudget => Coverage::BudgetExhausted,
        RunEnd::Failed(..) => Coverage::StoppedAtFailure,
    };
    let failure = end.failure(
        executions,
        failing_plan.filter(|_| config.spurious_wakeups > 0),
    );
    Report {
        checker: config.describe(),
        executions,
        outcomes: recorder.take_outcomes(),
        elapsed: started.elapsed(),
        coverage,
        failure,
        largest_execution: recorder.largest_execution(),
        pct_miss_bound: None,
    }
}
