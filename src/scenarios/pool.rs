//! `pool` (notes `In[4]`): the notes' `api_call`s submitted to a thread pool of 3 workers
//! ([`crate::thread_pool::ThreadPool`]); each appends `{'res': url+'10'}` to one lock-protected list and
//! returns it; the main thread collects the futures' results with `as_completed`, then leaves
//! the pool's scope, which waits for all work.
//!
//! Invariant: the `as_completed` results and the list are both permutations of the k calls'
//! results: every task ran exactly once and every future was yielded exactly once.
//!
//! ```text
//!   main ── submit ×k ──► queue ──► worker 0..w-1: api_call: lock list, push, unlock
//!     └── as_completed(futures) ◄── complete ─────────┘
//!     └── drop(pool): shutdown, join workers
//! ```
//!
//! Mutants (the pool's own code paths, see [`crate::thread_pool`]):
//! - `missed-wakeup`: a worker lets go of the queue's lock between seeing it empty and going to
//!   sleep; a task submitted in the gap wakes nobody, and the main thread waits for its result
//!   forever: deadlock.
//! - `lost-completion`: `as_completed` checks "done?" and registers for the completion under
//!   two lock acquisitions; a completion in the gap is never yielded: deadlock.
//! - `double-completion`: it registers and then checks, under two acquisitions; a completion in
//!   the gap is yielded twice, which `as_completed` detects and reports as a panic.

use std::sync::Arc;

use super::notes::{self, ApiCall};
use super::{thread_count, ConfigError, Mutant, Params, RunError, Scenario, Variant};
use crate::explore::FailureKind;
use crate::process::World;
use crate::sync::{Mutex, Panicked, Primitives};
use crate::thread_pool::{as_completed_with_flaw, Flaw, PoolError, TaskError, ThreadPool};

/// Workers and the calls to submit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    workers: usize,
    calls: Vec<ApiCall>,
}

impl PoolConfig {
    /// `workers` workers and `tasks` calls: the notes' four urls first, then made-up sites.
    /// Zero workers is rejected; zero tasks is allowed (nothing to wait for).
    pub fn new(workers: usize, tasks: usize) -> Result<Self, ConfigError> {
        Self::with_calls(workers, notes::pool_calls(tasks))
    }

    pub fn with_calls(workers: usize, calls: Vec<ApiCall>) -> Result<Self, ConfigError> {
        Ok(PoolConfig {
            workers: thread_count(workers)?,
            calls,
        })
    }

    /// The notes: 3 workers, the four urls.
    pub fn notes() -> Self {
        Self::new(notes::POOL_WORKERS, notes::URLS.len()).expect("3 workers")
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn calls(&self) -> &[ApiCall] {
        &self.calls
    }
}

/// What one run produced.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PoolOutcome {
    /// The futures' results in the order `as_completed` yielded them.
    pub results: Vec<String>,
    /// The shared list, in append order.
    pub list: Vec<String>,
}

/// The scenario's variants: the correct pool, or one of its known-bad code paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolVariant {
    /// The correct pool.
    Correct,
    /// A worker looks at the queue, lets go of the lock, and takes it again to sleep, trusting
    /// what it saw: a task submitted in the gap notifies nobody.
    MissedWakeup,
    /// `as_completed` checks whether a future is done and registers for its completion under
    /// two separate lock acquisitions: a completion in between is never yielded.
    LostCompletion,
    /// `as_completed` registers for a future's completion and then checks whether it is done,
    /// under two separate lock acquisitions: a completion in between is yielded twice.
    DoubleCompletion,
}

impl PoolVariant {
    /// The pool's code path for this variant (`None`: the correct one).
    fn flaw(self) -> Option<Flaw> {
        match self {
            PoolVariant::Correct => None,
            PoolVariant::MissedWakeup => Some(Flaw::MissedWakeup),
            PoolVariant::LostCompletion => Some(Flaw::LostCompletion),
            PoolVariant::DoubleCompletion => Some(Flaw::DoubleCompletion),
        }
    }
}

impl Variant for PoolVariant {
    const ALL: &'static [Self] = &[
        PoolVariant::Correct,
        PoolVariant::MissedWakeup,
        PoolVariant::LostCompletion,
        PoolVariant::DoubleCompletion,
    ];
    const PRODUCTION: Self = PoolVariant::Correct;

    fn name(self) -> &'static str {
        match self {
            PoolVariant::Correct => "correct",
            PoolVariant::MissedWakeup => "missed-wakeup",
            PoolVariant::LostCompletion => "lost-completion",
            PoolVariant::DoubleCompletion => "double-completion",
        }
    }

    fn mutant(self) -> Option<Mutant> {
        match self {
            PoolVariant::Correct => None,
            PoolVariant::MissedWakeup => Some(Mutant::caught_as(FailureKind::Deadlock, "a worker unlocks between seeing the queue empty and sleeping (missed wakeup)",)),
            PoolVariant::LostCompletion => Some(Mutant::caught_as(FailureKind::Deadlock, "as_completed checks, then registers, in two lock acquisitions (completion never yielded)",)),
            PoolVariant::DoubleCompletion => Some(Mutant::caught_as(FailureKind::Panicked, "as_completed registers, then checks, in two lock acquisitions (completion yielded twice)",)),
        }
    }
}

pub struct Pool;

impl Scenario for Pool {
    const NAME: &'static str = "pool";
    const NOTES_CELL: &'static str = "In[4]";

    type Config = PoolConfig;
    type Variant = PoolVariant;
    type Outcome = PoolOutcome;

    fn notes_config() -> PoolConfig {
        PoolConfig::notes()
    }

    /// One worker, two tasks: every mutant shows its bug there, and loom explores it
    /// exhaustively, with a spurious wakeup, in about two seconds (the notes' 3 workers and 4
    /// tasks need a preemption bound: see `models/pool.rs`, `mod deep`).
    fn model_config() -> PoolConfig {
        PoolConfig::new(1, 2).expect("1 worker")
    }

    /// `--threads`: the workers.
    const PARAMS: &'static [&'static str] = &["threads"];

    fn config(params: &Params) -> Result<PoolConfig, ConfigError> {
        match params.threads {
            None => Ok(PoolConfig::notes()),
            Some(workers) => PoolConfig::new(workers, notes::URLS.len()),
        }
    }

    fn run<P: Primitives>(
        config: &PoolConfig,
        variant: PoolVariant,
        _world: World,
    ) -> Result<PoolOutcome, RunError> {
        let list = Arc::new(Mutex::<P, Vec<String>>::new(Vec::new()));
        let pool =
            ThreadPool::<P>::with_flaw(config.workers, variant.flaw()).map_err(|e| match e {
                PoolError::Spawn(e) => RunError::Spawn(e),
                PoolError::ZeroWorkers => RunError::Process(e.to_string()),
            })?;
        let futures: Vec<_> = config
            .calls
            .iter()
            .map(|call| {
                let (list, call) = (Arc::clone(&list), call.clone());
                pool.submit(move || api_call(&list, &call))
                    .expect("the pool is open until dropped below")
            })
            .collect();
        let results = as_completed_with_flaw(futures, variant.flaw())
            .map(|future| future.result())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|TaskError::Panicked(message)| RunError::Panicked(Panicked(message)))?;
        // Leaving the `with` block: waits for every task.
        drop(pool);
        let list = list.lock().clone();
        Ok(PoolOutcome { results, list })
    }

    fn invariant(config: &PoolConfig, outcome: &PoolOutcome) -> Result<(), String> {
        let mut expected: Vec<String> = config.calls.iter().map(ApiCall::result).collect();
        expected.sort();
        for (what, values) in [
            ("as_completed results", &outcome.results),
            ("list", &outcome.list),
        ] {
            let mut sorted = values.clone();
            sorted.sort();
            if sorted != expected {
                return Err(format!(
                    "the {what} {values:?} are not a permutation of the calls' results {expected:?}"
                ));
            }
        }
        Ok(())
    }

    /// The notes' two lines: `print(results)` and `print(global_res)`.
    fn render(outcome: &PoolOutcome) -> String {
        format!(
            "{}\n{}\n",
            render_list(&outcome.results),
            render_list(&outcome.list)
        )
    }
}

/// `[{'res': 'a'}, {'res': 'b'}]`, as Python prints a list of dicts.
pub fn render_list(results: &[String]) -> String {
    let entries: Vec<String> = results
        .iter()
        .map(|r| format!("{{'res': '{r}'}}"))
        .collect();
    format!("[{}]", entries.join(", "))
}

/// The notes' `api_call(url, 10, lock)`: append the result under the lock, and return it.
fn api_call<P: Primitives>(list: &Mutex<P, Vec<String>>, call: &ApiCall) -> String {
    let result = call.result();
    list.lock().push(result.clone());
    result
}
