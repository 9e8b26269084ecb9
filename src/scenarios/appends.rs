//! `appends` (notes `In[2]-[3]`): k threads each append `{'res': url+retry}` to one shared list
//! under one lock, and return the same value.
//!
//! Invariant: the list holds exactly the k returned values, in some order.
//!
//! ```text
//!   Thread-1 ──lock──push──unlock──► return r1
//!   Thread-2 ──lock──push──unlock──► return r2     list = a permutation of r1..rk
//!   ...
//! ```
//!
//! Mutant `lost-update`: the lock is taken once to read the list and once more to write back
//! a copy with the value pushed. Two threads that read before either writes back each write a
//! list with only their own value, and one append is lost.

use std::sync::Arc;

use super::notes;
pub use super::notes::ApiCall;
use super::{thread_count, ConfigError, Mutant, Params, RunError, Scenario, Variant};
use crate::explore::FailureKind;
use crate::process::World;
use crate::sync::{spawn, Mutex, Primitives};

/// The calls to make, one thread each; never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendsConfig {
    calls: Vec<ApiCall>,
}

impl AppendsConfig {
    pub fn new(calls: Vec<ApiCall>) -> Result<Self, ConfigError> {
        thread_count(calls.len())?;
        Ok(AppendsConfig { calls })
    }

    /// The notes' four calls.
    pub fn notes() -> Self {
        AppendsConfig {
            calls: notes::append_calls(notes::URLS.len()),
        }
    }

    /// `threads` calls: the notes' four first, then made-up sites.
    pub fn with_threads(threads: usize) -> Result<Self, ConfigError> {
        Ok(AppendsConfig {
            calls: notes::append_calls(thread_count(threads)?),
        })
    }

    pub fn calls(&self) -> &[ApiCall] {
        &self.calls
    }
}

/// What one run produced.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AppendsOutcome {
    /// The shared list, in append order.
    pub list: Vec<String>,
    /// What each thread returned, in spawn order.
    pub returned: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendsVariant {
    /// Read, push and write back under one lock acquisition.
    Locked,
    /// Read and write back under separate acquisitions.
    LostUpdate,
}

impl Variant for AppendsVariant {
    const ALL: &'static [Self] = &[AppendsVariant::Locked, AppendsVariant::LostUpdate];
    const PRODUCTION: Self = AppendsVariant::Locked;

    fn name(self) -> &'static str {
        match self {
            AppendsVariant::Locked => "locked",
            AppendsVariant::LostUpdate => "lost-update",
        }
    }

    fn mutant(self) -> Option<Mutant> {
        match self {
            AppendsVariant::Locked => None,
            AppendsVariant::LostUpdate => Some(Mutant::caught_as(
                FailureKind::InvariantViolated,
                "the lock is taken separately to read and to write back",
            )),
        }
    }
}

pub struct Appends;

impl Scenario for Appends {
    const NAME: &'static str = "appends";
    const NOTES_CELL: &'static str = "In[2]-[3]";

    type Config = AppendsConfig;
    type Variant = AppendsVariant;
    type Outcome = AppendsOutcome;

    fn notes_config() -> AppendsConfig {
        AppendsConfig::notes()
    }

    const PARAMS: &'static [&'static str] = &["threads"];

    /// Three threads: six orders, every one reachable, in well under a second of loom.
    fn model_config() -> AppendsConfig {
        let mut config = AppendsConfig::notes();
        config.calls.truncate(3);
        config
    }

    fn config(params: &Params) -> Result<AppendsConfig, ConfigError> {
        match params.threads {
            None => Ok(AppendsConfig::notes()),
            Some(threads) => AppendsConfig::with_threads(threads),
        }
    }

    fn run<P: Primitives>(
        config: &AppendsConfig,
        variant: AppendsVariant,
        _world: World,
    ) -> Result<AppendsOutcome, RunError> {
        let list = Arc::new(Mutex::<P, Vec<String>>::new(Vec::new()));
        let threads = config
            .calls
            .iter()
            .enumerate()
            .map(|(i, call)| {
                let (list, call) = (Arc::clone(&list), call.clone());
                spawn::<P, _, _>(format!("Thread-{}", i + 1), move || {
                    api_call(&list, &call, variant)
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let returned = threads
            .into_iter()
            .map(|thread| thread.join())
            .collect::<Result<Vec<_>, _>>()?;
        let list = list.lock().clone();
        Ok(AppendsOutcome { list, returned })
    }

    fn invariant(config: &AppendsConfig, outcome: &AppendsOutcome) -> Result<(), String> {
        let mut listed = outcome.list.clone();
        let mut returned = outcome.returned.clone();
        listed.sort();
        returned.sort();
        if outcome.returned.len() != config.calls.len() {
            return Err(format!(
                "{} threads returned, {} were started",
                outcome.returned.len(),
                config.calls.len()
            ));
        }
        if listed != returned {
            return Err(format!(
                "the list {:?} is not a permutation of the returned values {:?}",
                outcome.list, outcome.returned
            ));
        }
        Ok(())
    }

    fn render(outcome: &AppendsOutcome) -> String {
        let entries: Vec<String> = outcome
            .list
            .iter()
            .map(|r| format!("{{'res': '{r}'}}"))
            .collect();
        format!("[{}]", entries.join(", "))
    }
}

/// The notes' `api_call`: append the result under the lock, and return it.
fn api_call<P: Primitives>(
    list: &Mutex<P, Vec<String>>,
    call: &ApiCall,
    variant: AppendsVariant,
) -> String {
    let result = call.result();
    match variant {
        AppendsVariant::Locked => list.lock().push(result.clone()),
        AppendsVariant::LostUpdate => {
            let mut copy = list.lock().clone();
            copy.push(result.clone());
            *list.lock() = copy;
        }
    }
    result
}
