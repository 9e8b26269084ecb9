//! `isolation` (notes `In[6]-[7]`): k child processes each append `{'res': url+retry}` to their
//! own copy of the global list `global_res`; the parent's copy stays `[]`.
//!
//! Invariant: the parent's list is empty; each child's list holds exactly its own one result;
//! the results reach the parent only as messages (each child's reply), one per child.
//!
//! ```text
//!   parent (global_res = [])
//!     ├─ Process-1: global_res = [r1] ──reply r1──┐
//!     ├─ Process-2: global_res = [r2] ──reply r2──┤   parent prints [] and the k replies
//!     └─ ...                                      ┘
//! ```
//!
//! In the OS world ([`World::Os`], production) it starts k real processes
//! ([`crate::process::run_in_processes`]); in the simulated one (loom and shuttle) the same code
//! runs over simulated processes, threads that share nothing but
//! channels, each with its own [`crate::process::Globals`].
//!
//! Mutant `shared-memory`: the children are threads sharing the parent's `global_res` (under
//! a lock, so no race): the parent's list fills up and each child sees the others' results,
//! which is what the notes' Python processes do not do.

use serde_json::{json, Value};

use super::notes::{self, ApiCall};
use super::process_pool::res_of;
use super::{ConfigError, Mutant, Params, RunError, Scenario, Variant};
use crate::explore::FailureKind;
use crate::process::sim::SimTransport;
use crate::process::task::python_repr;
use crate::process::transport::Transport;
use crate::process::OsTransport;
use crate::process::World;
use crate::process::{run_in_processes, ExitDesc, Globals, Registry};
use crate::sync::{spawn, Mutex, Primitives};
use std::sync::Arc;

/// One call per child process: the notes' four by default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsolationConfig {
    calls: Vec<ApiCall>,
}

impl IsolationConfig {
    /// The notes' four calls (`In[7]`).
    pub fn notes() -> Self {
        IsolationConfig {
            calls: notes::append_calls(notes::URLS.len()),
        }
    }

    /// `processes` children: the notes' calls first, then made-up sites.
    pub fn with_processes(processes: usize) -> Result<Self, ConfigError> {
        if processes == 0 {
            return Err(ConfigError("isolation needs at least 1 process".into()));
        }
        if processes > crate::process::MAX_PROCESSES {
            return Err(ConfigError(format!(
                "isolation takes at most {} processes",
                crate::process::MAX_PROCESSES
            )));
        }
        Ok(IsolationConfig {
            calls: notes::append_calls(processes),
        })
    }

    pub fn calls(&self) -> &[ApiCall] {
        &self.calls
    }
}

/// What one child reported, by message.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChildReport {
    /// Its return value's `res`.
    pub returned: String,
    /// Its own `global_res` after its append, as `res` strings.
    pub global_res: Vec<String>,
}

/// What one run produced.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct IsolationOutcome {
    /// The parent's `global_res` after every child was joined.
    pub parent: Vec<String>,
    /// Each child's report, in start order (`Err`: the child failed).
    pub children: Vec<Result<ChildReport, String>>,
    /// How each child process ended.
    pub exits: Vec<ExitDesc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsolationVariant {
    /// Each child its own process.
    Processes,
    /// Mutant: the children are threads that share the parent's `global_res`.
    SharedMemory,
}

impl Variant for IsolationVariant {
    const ALL: &'static [Self] = &[IsolationVariant::Processes, IsolationVariant::SharedMemory];
    const PRODUCTION: Self = IsolationVariant::Processes;

    fn name(self) -> &'static str {
        match self {
            IsolationVariant::Processes => "processes",
            IsolationVariant::SharedMemory => "shared-memory",
        }
    }

    fn mutant(self) -> Option<Mutant> {
        match self {
            IsolationVariant::Processes => None,
            IsolationVariant::SharedMemory => Some(Mutant::caught_as(
                FailureKind::InvariantViolated,
                "the children are threads sharing the parent's global_res (what processes prevent)",
            )),
        }
    }
}

pub struct Isolation;

impl Scenario for Isolation {
    const NAME: &'static str = "isolation";
    const NOTES_CELL: &'static str = "In[6]-[7]";

    type Config = IsolationConfig;
    type Variant = IsolationVariant;
    type Outcome = IsolationOutcome;

    fn notes_config() -> IsolationConfig {
        IsolationConfig::notes()
    }

    /// Two children: enough for each to show it sees neither the parent's list nor the other
    /// child's result, and for their replies and exits to interleave.
    fn model_config() -> IsolationConfig {
        IsolationConfig::with_processes(2).expect("2 processes")
    }

    /// Every interleaving of the parent and two children: 543 executions, since loom
    /// interleaves a channel's blocking receive with receives only (before that, loom had not
    /// finished after 600k executions, and `check` stopped at 3 preemptions).
    const CHECK_PREEMPTION_BOUND: Option<usize> = None;

    /// `--threads`: the child processes.
    const PARAMS: &'static [&'static str] = &["threads"];

    fn config(params: &Params) -> Result<IsolationConfig, ConfigError> {
        match params.threads {
            None => Ok(IsolationConfig::notes()),
            Some(processes) => IsolationConfig::with_processes(processes),
        }
    }

    fn run<P: Primitives>(
        config: &IsolationConfig,
        variant: IsolationVariant,
        world: World,
    ) -> Result<IsolationOutcome, RunError> {
        if variant == IsolationVariant::SharedMemory {
            return run_shared::<P>(config);
        }
        match world {
            World::Simulated => run_on::<P, _>(config, SimTransport::new(Registry::builtin())),
            World::Os => run_on::<P, _>(config, OsTransport::current_exe()?),
        }
    }

    fn invariant(config: &IsolationConfig, outcome: &IsolationOutcome) -> Result<(), String> {
        if !outcome.parent.is_empty() {
            return Err(format!(
                "the parent's global_res is {:?}, not []",
                outcome.parent
            ));
        }
        if outcome.children.len() != config.calls.len() {
            return Err(format!(
                "{} children reported, {} were started",
                outcome.children.len(),
                config.calls.len()
            ));
        }
        for (call, child) in config.calls.iter().zip(&outcome.children) {
            let expected = ChildReport {
                returned: call.result(),
                global_res: vec![call.result()],
            };
            if child.as_ref() != Ok(&expected) {
                return Err(format!("child for {} reported {child:?}", call.url));
            }
        }
        if let Some(bad) = outcome.exits.iter().find(|e| **e != ExitDesc::Exited(0)) {
            return Err(format!("a child process {bad}"));
        }
        Ok(())
    }

    /// The notes' `print(global_res)` in the parent, then what came back by message.
    fn render(outcome: &IsolationOutcome) -> String {
        let res = |r: &String| python_repr(&json!({ "res": r }));
        let list = |items: &[String]| {
            let items: Vec<String> = items.iter().map(res).collect();
            format!("[{}]", items.join(", "))
        };
        let mut copies = Vec::new();
        let mut returned = Vec::new();
        for child in &outcome.children {
            match child {
                Ok(report) => {
                    copies.push(list(&report.global_res));
                    returned.push(res(&report.returned));
                }
                Err(e) => {
                    copies.push(format!("<{e}>"));
                    returned.push(format!("<{e}>"));
                }
            }
        }
        format!(
            "{}\nEach child's own global_res: [{}]\nReturned to the parent by message: [{}]\n",
            list(&outcome.parent),
            copies.join(", "),
            returned.join(", ")
        )
    }
}

fn run_on<P: Primitives, T: Transport<P>>(
    config: &IsolationConfig,
    mut transport: T,
) -> Result<IsolationOutcome, RunError> {
    // The parent's own globals: no child can reach them.
    let parent = Globals::default();
    let jobs = config
        .calls
        .iter()
        .map(|call| ("api_call_global".to_string(), json!([call.url, call.retry])))
        .collect();
    let ran = run_in_processes::<P, T>(&mut transport, jobs).map_err(RunError::Process)?;
    let mut children = Vec::new();
    let mut exits = Vec::new();
    for (result, exit) in ran {
        children.push(result.map(|v| report(&v)).map_err(|e| e.to_string()));
        exits.push(exit);
    }
    Ok(IsolationOutcome {
        parent: parent.global_res.iter().map(res_of).collect(),
        children,
        exits,
    })
}

/// The mutant: threads, one `global_res` shared with the parent under a lock.
fn run_shared<P: Primitives>(config: &IsolationConfig) -> Result<IsolationOutcome, RunError> {
    let parent = Arc::new(Mutex::<P, Globals>::new(Globals::default()));
    let registry = Arc::new(Registry::builtin());
    let threads = config
        .calls
        .iter()
        .enumerate()
        .map(|(i, call)| {
            let (parent, registry) = (Arc::clone(&parent), Arc::clone(&registry));
            let args = json!([call.url, call.retry]);
            spawn::<P, _, _>(format!("Thread-{}", i + 1), move || {
                registry.run(&mut parent.lock(), "api_call_global", args)
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut children = Vec::new();
    for thread in threads {
        children.push(thread.join()?.map(|v| report(&v)));
    }
    let parent = parent.lock().global_res.iter().map(res_of).collect();
    Ok(IsolationOutcome {
        parent,
        exits: vec![ExitDesc::Exited(0); children.len()],
        children,
    })
}

fn report(value: &Value) -> ChildReport {
    ChildReport {
        returned: res_of(value),
        global_res: value["global_res"]
            .as_array()
            .map(|items| items.iter().map(res_of).collect())
            .unwrap_or_default(),
    }
}
