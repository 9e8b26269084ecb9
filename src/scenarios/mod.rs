//! The patterns of the Python notes, each written once against [`crate::sync::Primitives`].
//!
//! Invariant: a scenario's `run` is the only implementation of its pattern; production, loom,
//! shuttle, the CLI, the benchmarks and the tests all call it with a different backend. Each
//! scenario also names its invariant (a verdict on an outcome) and its mutants, the known-bad
//! variants that the checkers must catch.

pub mod appends;
pub mod counter;
pub mod isolation;
pub mod manager;
pub mod notes;
pub mod pool;
pub mod process_pool;
mod registry;
pub mod singleton;
pub mod suite;
pub mod turns;

use std::fmt;

use crate::explore::{self, Checker, CheckerKind, FailureKind, LoomConfig, Report, ShuttleConfig};
use crate::process::World;
use crate::sync::{Loom, Panicked, Primitives, Shuttle};

/// One of the patterns.
pub trait Scenario: 'static {
    /// The name the CLI and the reports use.
    const NAME: &'static str;
    /// The cells of the Python notes it implements.
    const NOTES_CELL: &'static str;

    type Config: Clone + fmt::Debug + Send + Sync + 'static;
    type Variant: Variant;
    type Outcome: Ord + Clone + fmt::Debug + Send + 'static;

    /// The parameters of the Python notes.
    fn notes_config() -> Self::Config;

    /// The size `threadproof check` explores by default: small enough for loom to finish in
    /// seconds, large enough for every mutant to show its bug.
    fn model_config() -> Self::Config {
        Self::notes_config()
    }

    /// The preemption bound `threadproof check` explores this scenario with under loom, when
    /// every interleaving is beyond the time one exploration of the gate may take; `None`:
    /// every interleaving. The verdict table names the bound.
    const CHECK_PREEMPTION_BOUND: Option<usize> = None;

    /// The CLI parameters it takes, by flag name (`threads`, `n`).
    const PARAMS: &'static [&'static str];

    /// Builds a config from the CLI's parameters; those not in [`Self::PARAMS`] are `None`.
    fn config(params: &Params) -> Result<Self::Config, ConfigError>;

    /// Runs the pattern once on backend `P`; process scenarios start their processes in
    /// `world` (the others have none).
    fn run<P: Primitives>(
        config: &Self::Config,
        variant: Self::Variant,
        world: World,
    ) -> Result<Self::Outcome, RunError>;

    /// Whether `outcome` is one the pattern allows.
    fn invariant(config: &Self::Config, outcome: &Self::Outcome) -> Result<(), String>;

    /// The outcome as the Python notes print it.
    fn render(outcome: &Self::Outcome) -> String;
}

/// A version of a scenario: correct, or a mutant with a known bug and what the checkers must
/// report on it. This data is the one source of the kill matrix: its tests, the README's
/// table and `check`'s expectations are all derived from it.
pub trait Variant: Copy + fmt::Debug + PartialEq + Send + Sync + 'static {
    const ALL: &'static [Self];
    /// The correct version that production runs.
    const PRODUCTION: Self;

    /// The name the CLI and the kill matrix use, e.g. `notify-one`.
    fn name(self) -> &'static str;

    /// For a mutant: its bug and how the checkers must report it; `None` for a correct
    /// version.
    fn mutant(self) -> Option<Mutant>;

    /// The bug, for a mutant.
    fn bug(self) -> Option<&'static str> {
        self.mutant().map(|m| m.bug)
    }

    fn is_mutant(self) -> bool {
        self.mutant().is_some()
    }

    /// What `checker` must report on this variant at the scenario's model size, with
    /// spurious wakeups injected or not.
    fn expected(self, checker: CheckerKind, spurious_wakeups: bool) -> Expected {
        match self.mutant() {
            None => Expected::Passes,
            Some(mutant) => mutant.expected(checker, spurious_wakeups),
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

/// A known-bad variant: its bug, and what the checkers must say about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mutant {
    pub bug: &'static str,
    /// The failure every checker that can see the bug reports.
    pub caught_as: FailureKind,
    /// Why shuttle cannot see the bug by construction (a weak-memory bug: its atomics are all
    /// `SeqCst`), if it cannot.
    pub escapes_shuttle: Option<&'static str>,
    /// Found only through injected spurious wakeups: with them off, every checker passes it.
    pub needs_spurious_wakeups: bool,
}

impl Mutant {
    /// A mutant every checker catches, reporting `kind`.
    pub const fn caught_as(kind: FailureKind, bug: &'static str) -> Mutant {
        Mutant {
            bug,
            caught_as: kind,
            escapes_shuttle: None,
            needs_spurious_wakeups: false,
        }
    }

    /// The same mutant, which shuttle cannot see, for the reason `why`.
    pub const fn escaping_shuttle(self, why: &'static str) -> Mutant {
        Mutant {
            escapes_shuttle: Some(why),
            ..self
        }
    }

    /// The same mutant, found only with spurious wakeups injected.
    pub const fn needing_spurious_wakeups(self) -> Mutant {
        Mutant {
            needs_spurious_wakeups: true,
            ..self
        }
    }

    /// What `checker` must report on it.
    pub fn expected(&self, checker: CheckerKind, spurious_wakeups: bool) -> Expected {
        match self.escapes_shuttle {
            Some(why) if checker.is_shuttle() => Expected::Escapes(why),
            _ if self.needs_spurious_wakeups && !spurious_wakeups => {
                Expected::Escapes(SPURIOUS_ONLY)
            }
            _ => Expected::Caught(self.caught_as),
        }
    }
}

/// Why a mutant that needs spurious wakeups escapes an exploration without them.
pub const SPURIOUS_ONLY: &str = "found only with spurious wakeups, which are off";

/// What an exploration of a variant must end with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// No failure: a correct version.
    Passes,
    /// A failure of this kind: a mutant the checker can see.
    Caught(FailureKind),
    /// No failure, because the checker cannot see this bug; says why.
    Escapes(&'static str),
}

impl Expected {
    /// Whether an exploration that ended with `failure` (its kind) did what was expected.
    pub fn met_by(self, failure: Option<FailureKind>) -> bool {
        match (self, failure) {
            (Expected::Passes | Expected::Escapes(_), None) => true,
            (Expected::Caught(kind), Some(found)) => kind == found,
            _ => false,
        }
    }

    /// How the kill matrix states it.
    pub fn describe(self) -> String {
        match self {
            Expected::Passes => "passes".into(),
            Expected::Caught(kind) => kind.to_string(),
            Expected::Escapes(why) => format!("escapes: {why}"),
        }
    }
}

/// The parameters a user can set on the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params {
    pub threads: Option<usize>,
    pub n: Option<usize>,
}

impl Params {
    /// The flags set, by name.
    fn set(&self) -> impl Iterator<Item = &'static str> {
        [("threads", self.threads), ("n", self.n)]
            .into_iter()
            .filter_map(|(name, value)| value.map(|_| name))
    }

    /// Only the flags in `takes`.
    pub fn only(&self, takes: &[&str]) -> Params {
        Params {
            threads: self.threads.filter(|_| takes.contains(&"threads")),
            n: self.n.filter(|_| takes.contains(&"n")),
        }
    }
}

/// A config the scenario cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Why a run did not produce an outcome.
#[derive(Debug)]
pub enum RunError {
    /// The OS refused a thread.
    Spawn(std::io::Error),
    /// A thread of the scenario panicked.
    Panicked(Panicked),
    /// A worker process, the pool or the manager failed (process scenarios).
    Process(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Spawn(e) => write!(f, "could not spawn a thread: {e}"),
            RunError::Panicked(p) => p.fmt(f),
            RunError::Process(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for RunError {}

impl From<std::io::Error> for RunError {
    fn from(e: std::io::Error) -> Self {
        RunError::Spawn(e)
    }
}

impl From<Panicked> for RunError {
    fn from(p: Panicked) -> Self {
        RunError::Panicked(p)
    }
}

/// The most threads a scenario starts: beyond it, a bad argument rather than a process that
/// runs out of memory maps (each thread takes a stack, a guard page and a signal stack, and
/// Linux allows about 65,000 maps) and aborts.
pub const MAX_THREADS: usize = 4096;

/// A thread count of at least one and at most [`MAX_THREADS`].
pub(crate) fn thread_count(threads: usize) -> Result<usize, ConfigError> {
    if threads == 0 {
        return Err(ConfigError("threads must be at least 1".into()));
    }
    if threads > MAX_THREADS {
        return Err(ConfigError(format!(
            "{threads} threads is too many: at most {MAX_THREADS}"
        )));
    }
    Ok(threads)
}

/// Explores `variant` of `S` under loom.
pub fn explore_loom<S: Scenario>(
    config: &S::Config,
    variant: S::Variant,
    loom: &LoomConfig,
) -> Report<S::Outcome> {
    explore::<S>(config, variant, &Checker::Loom(loom.clone()))
}

/// Explores `variant` of `S` under shuttle.
pub fn explore_shuttle<S: Scenario>(
    config: &S::Config,
    variant: S::Variant,
    shuttle: &ShuttleConfig,
) -> Report<S::Outcome> {
    explore::<S>(config, variant, &Checker::Shuttle(shuttle.clone()))
}

/// Explores `variant` of `S` with `checker`.
pub fn explore<S: Scenario>(
    config: &S::Config,
    variant: S::Variant,
    checker: &Checker,
) -> Report<S::Outcome> {
    let (on_loom, on_shuttle) = (config.clone(), config.clone());
    let invariant_config = config.clone();
    checker.explore_either(
        move || model_run::<S, Loom>(&on_loom, variant),
        move || model_run::<S, Shuttle>(&on_shuttle, variant),
        move |outcome| S::invariant(&invariant_config, outcome),
    )
}

/// Inside a model, a run error is a failed execution: the panic carries it to the report.
fn model_run<S: Scenario, P: Primitives>(config: &S::Config, variant: S::Variant) -> S::Outcome {
    S::run::<P>(config, variant, World::Simulated).unwrap_or_else(|e| panic!("{}: {e}", S::NAME))
}

pub use self::registry::{
    find, kill_table, AnyScenario, Checked, Graded, Production, ScenarioError, ALL,
};
