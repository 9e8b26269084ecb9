//! `process_pool` (notes `In[8]`): the notes' four `api_call`s submitted by name to a pool of 3
//! worker processes ([`crate::process::ProcessPool`]); `as_completed` collects the results.
//!
//! Invariant: every task is dispatched once and completed once; each returns its
//! `{'res': url+'10'}`, except the task whose worker dies mid-task (if the config makes one
//! die), whose future fails with an error naming the task and the exit status or signal. The
//! other tasks complete: a dead worker is replaced.
//!
//! ```text
//!   main ─ submit("api_call", (url, 10)) ×4 ─► dispatcher ─► worker processes ×3
//!     └─ as_completed(futures) ◄─ Reply / Exited{status} (crash: only that future fails)
//!     └─ shutdown: waits for all work, reaps every worker
//! ```
//!
//! Where Python breaks: in the notes, one worker terminated abruptly makes every pending
//! future fail with `BrokenProcessPool` and the pool unusable; here only the dead worker's
//! task fails.
//!
//! In the OS world (production) it runs real processes; in the simulated one
//! ([`World::Simulated`], loom and shuttle) the same dispatcher runs over simulated processes
//! ([`crate::process::sim`]), threads that share nothing but channels. A crash is the config's choice of a task whose worker dies mid-task
//! (simulated: killed the first time it is handed that task; real: the task is the `die` task,
//! which kills its own worker); the checkers explore every interleaving around it.
//!
//! Mutants (the dispatcher's crash handling, [`ProcessPoolVariant`]):
//! `loses-task-on-crash` (the dead worker's future never completes: deadlock) and
//! `reruns-on-crash` (the task is queued again and runs twice).

use serde_json::{json, Value};

use super::notes::{self, ApiCall};
use super::{thread_count, ConfigError, Mutant, Params, RunError, Scenario, Variant};
use crate::explore::FailureKind;
use crate::process::pool::OnCrash;
use crate::process::sim::SimTransport;
use crate::process::task::python_repr;
use crate::process::transport::Transport;
use crate::process::OsTransport;
use crate::process::World;
use crate::process::{as_completed, Death, ProcessPool, Registry};
use crate::sync::Primitives;

/// Workers, the calls to submit, and which task's worker dies mid-task (if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessPoolConfig {
    workers: usize,
    calls: Vec<ApiCall>,
    crash: Option<(usize, Death)>,
}

impl ProcessPoolConfig {
    /// `workers` workers and `tasks` calls: the notes' urls first, then made-up sites.
    pub fn new(workers: usize, tasks: usize) -> Result<Self, ConfigError> {
        if workers == 0 {
            return Err(ConfigError("a process pool needs at least 1 worker".into()));
        }
        if workers > crate::process::MAX_PROCESSES {
            return Err(ConfigError(format!(
                "a process pool takes at most {} workers",
                crate::process::MAX_PROCESSES
            )));
        }
        Ok(ProcessPoolConfig {
            workers: thread_count(workers)?,
            calls: notes::pool_calls(tasks),
            crash: None,
        })
    }

    /// The notes: 3 workers, the four urls, nobody dies.
    pub fn notes() -> Self {
        Self::new(notes::POOL_WORKERS, notes::URLS.len()).expect("3 workers")
    }

    /// The worker running task `index` dies mid-task, as `death` says.
    pub fn with_crash(mut self, index: usize, death: Death) -> Result<Self, ConfigError> {
        if index >= self.calls.len() {
            return Err(ConfigError(format!(
                "no task {index} to crash: there are {}",
                self.calls.len()
            )));
        }
        self.crash = Some((index, death));
        Ok(self)
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn calls(&self) -> &[ApiCall] {
        &self.calls
    }

    pub fn crash(&self) -> Option<(usize, Death)> {
        self.crash
    }
}

/// What one run produced.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProcessPoolOutcome {
    /// `(task index, result)` in the order `as_completed` yielded them: the `res` string, or
    /// the error's message.
    pub results: Vec<(usize, Result<String, String>)>,
    /// How many times each task was handed to a worker.
    pub dispatched: Vec<usize>,
    /// How many times each task's future was completed.
    pub completed: Vec<usize>,
}

/// The scenario's variants: the dispatcher's correct crash handling, or a known-bad one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessPoolVariant {
    /// A dead worker's task fails with [`TaskError::WorkerDied`](crate::process::TaskError).
    FailsTheTask,
    /// A dead worker's task is forgotten; its future never completes.
    LosesTaskOnCrash,
    /// A dead worker's task is queued again and runs a second time.
    RerunsOnCrash,
}

impl ProcessPoolVariant {
    fn on_crash(self) -> OnCrash {
        match self {
            ProcessPoolVariant::FailsTheTask => OnCrash::Fail,
            ProcessPoolVariant::LosesTaskOnCrash => OnCrash::Lose,
            ProcessPoolVariant::RerunsOnCrash => OnCrash::Rerun,
        }
    }
}

impl Variant for ProcessPoolVariant {
    const ALL: &'static [Self] = &[
        ProcessPoolVariant::FailsTheTask,
        ProcessPoolVariant::LosesTaskOnCrash,
        ProcessPoolVariant::RerunsOnCrash,
    ];
    const PRODUCTION: Self = ProcessPoolVariant::FailsTheTask;

    fn name(self) -> &'static str {
        match self {
            ProcessPoolVariant::FailsTheTask => "fails-the-task",
            ProcessPoolVariant::LosesTaskOnCrash => "loses-task-on-crash",
            ProcessPoolVariant::RerunsOnCrash => "reruns-on-crash",
        }
    }

    fn mutant(self) -> Option<Mutant> {
        match self {
            ProcessPoolVariant::FailsTheTask => None,
            ProcessPoolVariant::LosesTaskOnCrash => Some(Mutant::caught_as(
                FailureKind::Deadlock,
                "the dispatcher forgets a dead worker's task (its future never completes)",
            )),
            ProcessPoolVariant::RerunsOnCrash => Some(Mutant::caught_as(
                FailureKind::InvariantViolated,
                "the dispatcher queues a dead worker's task again (it runs twice)",
            )),
        }
    }
}

pub struct ProcessPoolScenario;

impl Scenario for ProcessPoolScenario {
    const NAME: &'static str = "process_pool";
    const NOTES_CELL: &'static str = "In[8]";

    type Config = ProcessPoolConfig;
    type Variant = ProcessPoolVariant;
    type Outcome = ProcessPoolOutcome;

    fn notes_config() -> ProcessPoolConfig {
        ProcessPoolConfig::notes()
    }

    /// Two workers, two tasks, the second task's worker killed mid-task: the crash is what
    /// both mutants mishandle, so `check` must explore it.
    fn model_config() -> ProcessPoolConfig {
        ProcessPoolConfig::new(2, 2)
            .and_then(|config| config.with_crash(1, Death::Kill))
            .expect("a valid model config")
    }

    /// Main, the dispatcher, two workers and a replacement are loom's five threads: every
    /// interleaving is out of reach (loom had not finished after 900k executions of one worker
    /// and one task, nor after 220k since the channel's receive commutes with its sends);
    /// within 1 preemption it is 1,011 executions, about 0.3 s with a spurious wakeup explored
    /// (2 preemptions: 47k, 13 s, more than the gate's longest exploration).
    const CHECK_PREEMPTION_BOUND: Option<usize> = Some(1);

    /// `--threads`: the worker processes.
    const PARAMS: &'static [&'static str] = &["threads"];

    fn config(params: &Params) -> Result<ProcessPoolConfig, ConfigError> {
        match params.threads {
            None => Ok(ProcessPoolConfig::notes()),
            Some(workers) => ProcessPoolConfig::new(workers, notes::URLS.len()),
        }
    }

    fn run<P: Primitives>(
        config: &ProcessPoolConfig,
        variant: ProcessPoolVariant,
        world: World,
    ) -> Result<ProcessPoolOutcome, RunError> {
        match world {
            World::Simulated => {
                let mut transport = SimTransport::new(Registry::builtin());
                if let Some((index, death)) = config.crash {
                    transport = transport.crash_on(index as u64, death);
                }
                run_on::<P, _>(config, variant, transport, world)
            }
            World::Os => run_on::<P, _>(config, variant, OsTransport::current_exe()?, world),
        }
    }

    fn invariant(config: &ProcessPoolConfig, outcome: &ProcessPoolOutcome) -> Result<(), String> {
        let n = config.calls.len();
        let mut seen = vec![0; n];
        for (index, _) in &outcome.results {
            seen[*index] += 1;
        }
        if seen.iter().any(|&s| s != 1) {
            return Err(format!(
                "as_completed yielded tasks {seen:?} times, not each once"
            ));
        }
        if outcome.dispatched != vec![1; n] {
            return Err(format!(
                "tasks were dispatched {:?} times, not each once",
                outcome.dispatched
            ));
        }
        if outcome.completed != vec![1; n] {
            return Err(format!(
                "futures were completed {:?} times, not each once",
                outcome.completed
            ));
        }
        for (index, result) in &outcome.results {
            match (config.crash, result) {
                (Some((crashed, death)), Err(e)) if crashed == *index => {
                    let status = death.status().to_string();
                    if !e.contains("task `") || !e.contains(&status) {
                        return Err(format!(
                            "task {index}'s error does not name the task and `{status}`: {e}"
                        ));
                    }
                }
                (Some((crashed, _)), Ok(r)) if crashed == *index => {
                    return Err(format!("task {index}'s worker died, yet it returned {r}"));
                }
                (_, Ok(r)) if *r == config.calls[*index].result() => {}
                (_, other) => {
                    return Err(format!(
                        "task {index} should return {}, got {other:?}",
                        config.calls[*index].result()
                    ))
                }
            }
        }
        Ok(())
    }

    /// The notes' output: a line per failed task, then `Results: [...]` in completion order.
    fn render(outcome: &ProcessPoolOutcome) -> String {
        let mut out = String::new();
        let mut results = Vec::new();
        for (_, result) in &outcome.results {
            match result {
                Ok(r) => results.push(python_repr(&json!({ "res": r }))),
                Err(e) => out.push_str(&format!("Task failed with exception: {e}\n")),
            }
        }
        out.push_str(&format!("Results: [{}]\n", results.join(", ")));
        out
    }
}

/// The run over any transport: the same code for real and simulated processes.
fn run_on<P: Primitives, T: Transport<P>>(
    config: &ProcessPoolConfig,
    variant: ProcessPoolVariant,
    transport: T,
    world: World,
) -> Result<ProcessPoolOutcome, RunError> {
    let pool = ProcessPool::<P>::with_flaw(config.workers, transport, variant.on_crash())
        .map_err(|e| RunError::Process(e.to_string()))?;
    let futures = config
        .calls
        .iter()
        .enumerate()
        .map(|(i, call)| match config.crash {
            // Real workers cannot be killed on cue from here: the task kills its own worker.
            Some((crashed, death)) if crashed == i && world == World::Os => {
                pool.submit(crate::process::task::DIE, death)
            }
            _ => pool.submit("api_call", (&call.url, call.retry)),
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| RunError::Process(e.to_string()))?;
    let results = as_completed(&futures)
        .map(|future| {
            let result = match future.result() {
                Ok(value) => Ok(res_of(&value)),
                Err(e) => Err(e.to_string()),
            };
            (future.id() as usize, result)
        })
        .collect();
    let stats = pool
        .shutdown()
        .map_err(|e| RunError::Process(e.to_string()))?;
    let n = config.calls.len();
    let mut dispatched = vec![0; n];
    for (id, count) in stats.dispatched {
        dispatched[id as usize] = count;
    }
    let mut completed = vec![0; n];
    for id in stats.completions {
        completed[id as usize] += 1;
    }
    Ok(ProcessPoolOutcome {
        results,
        dispatched,
        completed,
    })
}

/// The `res` of `{"res": ...}`, or the value as JSON if it has another shape.
pub(crate) fn res_of(value: &Value) -> String {
    match value.get("res").and_then(Value::as_str) {
        Some(res) => res.to_string(),
        None => value.to_string(),
    }
}
