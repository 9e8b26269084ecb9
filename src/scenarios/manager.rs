//! `manager` (notes `In[9]`): a manager server process owns a list; the notes' four
//! `api_call_and_store` tasks run in a pool of 3 worker processes and append their results to
//! it through a proxy; the parent prints the return values and the shared list.
//!
//! Invariant: the return values and the shared list are both permutations of the four results:
//! every append arrived exactly once.
//!
//! ```text
//!   parent ─ Manager::start ─► server process (owns the list)
//!     │                           ▲ Append{client, seq, v} over a Unix socket
//!     └─ ProcessPool(3) ─► workers: api_call_and_store(url, 10, list proxy)
//!     └─ prints results, then list.snapshot()
//! ```
//!
//! In the OS world (production) it runs the real server and real workers. In the simulated
//! one ([`World::Simulated`], loom and shuttle) the same request loop
//! ([`crate::process::manager::serve`]) and the same retrying client run over channels: one
//! server thread and one thread per simulated worker, the calls dealt to them in turn. The config may lose the answer to one append (the
//! connection breaks after the server applied it): the client must retry, and the server must
//! not apply the retry again.
//!
//! Mutant `applies-twice`: the server does not remember what each client last asked, so a
//! retried append lands twice.

use serde_json::{json, Value};

use super::notes::{self, ApiCall};
use super::process_pool::res_of;
use super::{ConfigError, Mutant, Params, RunError, Scenario, Variant};
use crate::explore::FailureKind;
use crate::process::manager::{simulate_with_flaw, Manager, OnRepeat};
use crate::process::task::python_repr;
use crate::process::OsTransport;
use crate::process::World;
use crate::process::{as_completed, ProcessPool};
use crate::sync::Primitives;

/// Worker processes, the calls, and which call's answer is lost once (model runs only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagerConfig {
    workers: usize,
    calls: Vec<ApiCall>,
    lose: Option<usize>,
}

impl ManagerConfig {
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
        Ok(ManagerConfig {
            workers,
            calls: notes::pool_calls(tasks),
            lose: None,
        })
    }

    /// The notes: 3 workers, the four urls.
    pub fn notes() -> Self {
        Self::new(notes::POOL_WORKERS, notes::URLS.len()).expect("3 workers")
    }

    /// The answer to call `index`'s append is lost once (simulated connections only).
    pub fn losing_answer(mut self, index: usize) -> Result<Self, ConfigError> {
        if index >= self.calls.len() {
            return Err(ConfigError(format!("no call {index}")));
        }
        self.lose = Some(index);
        Ok(self)
    }

    pub fn calls(&self) -> &[ApiCall] {
        &self.calls
    }
}

/// What one run produced.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ManagerOutcome {
    /// The tasks' return values (`res`), in the order they were collected.
    pub returned: Vec<String>,
    /// The shared list (`res`), in append order.
    pub list: Vec<String>,
}

/// The scenario's variants: the server's correct handling of a resent request, or a known-bad
/// one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManagerScenarioVariant {
    /// A repeated (client, seq) is answered from memory.
    AppliesOnce,
    /// A repeated request is applied again.
    AppliesTwice,
}

impl ManagerScenarioVariant {
    fn on_repeat(self) -> OnRepeat {
        match self {
            ManagerScenarioVariant::AppliesOnce => OnRepeat::AppliesOnce,
            ManagerScenarioVariant::AppliesTwice => OnRepeat::AppliesTwice,
        }
    }
}

impl Variant for ManagerScenarioVariant {
    const ALL: &'static [Self] = &[
        ManagerScenarioVariant::AppliesOnce,
        ManagerScenarioVariant::AppliesTwice,
    ];
    const PRODUCTION: Self = ManagerScenarioVariant::AppliesOnce;

    fn name(self) -> &'static str {
        match self {
            ManagerScenarioVariant::AppliesOnce => "applies-once",
            ManagerScenarioVariant::AppliesTwice => "applies-twice",
        }
    }

    fn mutant(self) -> Option<Mutant> {
        match self {
            ManagerScenarioVariant::AppliesOnce => None,
            ManagerScenarioVariant::AppliesTwice => Some(Mutant::caught_as(
                FailureKind::InvariantViolated,
                "the server applies a retried append again (duplicate entry)",
            )),
        }
    }
}

pub struct ManagerScenario;

impl Scenario for ManagerScenario {
    const NAME: &'static str = "manager";
    const NOTES_CELL: &'static str = "In[9]";

    type Config = ManagerConfig;
    type Variant = ManagerScenarioVariant;
    type Outcome = ManagerOutcome;

    fn notes_config() -> ManagerConfig {
        ManagerConfig::notes()
    }

    /// Two clients, two appends, the answer to the first lost once after it was applied: the
    /// resend is what `applies-twice` mishandles, so `check` must explore it.
    fn model_config() -> ManagerConfig {
        ManagerConfig::new(2, 2)
            .and_then(|config| config.losing_answer(0))
            .expect("a valid model config")
    }

    /// Every interleaving of the two clients and the server: 151 executions, since loom
    /// interleaves a channel's blocking receive with receives only (before that, loom had not
    /// finished after 400k executions, and `check` stopped at 2 preemptions).
    const CHECK_PREEMPTION_BOUND: Option<usize> = None;

    /// `--threads`: the worker processes.
    const PARAMS: &'static [&'static str] = &["threads"];

    fn config(params: &Params) -> Result<ManagerConfig, ConfigError> {
        match params.threads {
            None => Ok(ManagerConfig::notes()),
            Some(workers) => ManagerConfig::new(workers, notes::URLS.len()),
        }
    }

    fn run<P: Primitives>(
        config: &ManagerConfig,
        variant: ManagerScenarioVariant,
        world: World,
    ) -> Result<ManagerOutcome, RunError> {
        match world {
            World::Simulated => run_simulated::<P>(config, variant),
            World::Os => run_processes::<P>(config),
        }
    }

    fn invariant(config: &ManagerConfig, outcome: &ManagerOutcome) -> Result<(), String> {
        let mut expected: Vec<String> = config.calls.iter().map(ApiCall::result).collect();
        expected.sort();
        for (what, values) in [
            ("return values", &outcome.returned),
            ("shared list", &outcome.list),
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

    /// The notes' two lines.
    fn render(outcome: &ManagerOutcome) -> String {
        let list = |items: &[String]| {
            let items: Vec<String> = items
                .iter()
                .map(|r| python_repr(&json!({ "res": r })))
                .collect();
            format!("[{}]", items.join(", "))
        };
        format!(
            "Results (from return values): {}\nGlobal Results (shared list): {}\n",
            list(&outcome.returned),
            list(&outcome.list)
        )
    }
}

/// Real processes: a manager server, a pool of workers appending through proxies.
fn run_processes<P: Primitives>(config: &ManagerConfig) -> Result<ManagerOutcome, RunError> {
    let process = |e: &dyn std::fmt::Display| RunError::Process(e.to_string());
    let manager = Manager::start().map_err(|e| process(&e))?;
    let list = manager.list();
    let pool = ProcessPool::<P>::with_transport(config.workers, OsTransport::current_exe()?)
        .map_err(|e| process(&e))?;
    let futures = config
        .calls
        .iter()
        .map(|call| pool.submit("api_call_and_store", (&call.url, call.retry, &list)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| process(&e))?;
    let returned = as_completed(&futures)
        .map(|future| future.result().map(|v| res_of(&v)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| process(&e))?;
    pool.shutdown().map_err(|e| process(&e))?;
    let shared = list.snapshot().map_err(|e| process(&e))?;
    manager.shutdown().map_err(|e| process(&e))?;
    Ok(ManagerOutcome {
        returned,
        list: shared.iter().map(res_of).collect(),
    })
}

/// Simulated processes: the calls dealt to `workers` client threads in turn.
fn run_simulated<P: Primitives>(
    config: &ManagerConfig,
    variant: ManagerScenarioVariant,
) -> Result<ManagerOutcome, RunError> {
    let mut appends: Vec<Vec<Value>> = vec![Vec::new(); config.workers.min(config.calls.len())];
    let clients = appends.len().max(1);
    for (i, call) in config.calls.iter().enumerate() {
        appends[i % clients].push(json!({ "res": call.result() }));
    }
    let lose = config.lose.map(|i| (i % clients, i / clients));
    let out =
        simulate_with_flaw::<P>(appends, lose, variant.on_repeat()).map_err(RunError::Process)?;
    Ok(ManagerOutcome {
        returned: out.returned.iter().flatten().map(res_of).collect(),
        list: out.list.iter().map(res_of).collect(),
    })
}
