//! The patterns of the Python notes, each written once against [`crate::sync::Primitives`].
//!
//! Invariant: a scenario's `run` is the only implementation of its pattern; production, loom,
//! shuttle, the CLI, the benchmarks and the tests all call it with a different backend. Each
//! scenario also names its invariant (a verdict on an outcome) and its mutants, the known-bad
//! variants that the checkers must catch.

pub mod appends;
pub mod turns;

use std::fmt;

use crate::explore::{self, LoomConfig, Report, ShuttleConfig};
use crate::sync::{Loom, Panicked, Primitives, Shuttle};

/// One of the patterns.
pub trait Scenario: 'static {
    /// The name the CLI and the reports use.
    const NAME: &'static str;
    /// The cells of the Python notes it implements.
    const SEED: &'static str;

    type Config: Clone + fmt::Debug + Send + Sync + 'static;
    type Variant: Variant;
    type Outcome: Ord + Clone + fmt::Debug + Send + 'static;

    /// The parameters of the Python notes.
    fn seed_config() -> Self::Config;

    /// The CLI parameters it takes, by flag name (`threads`, `n`).
    const PARAMS: &'static [&'static str];

    /// Builds a config from the CLI's parameters; those not in [`Self::PARAMS`] are `None`.
    fn config(params: &Params) -> Result<Self::Config, ConfigError>;

    /// Runs the pattern once on backend `P`.
    fn run<P: Primitives>(
        config: &Self::Config,
        variant: Self::Variant,
    ) -> Result<Self::Outcome, RunError>;

    /// Whether `outcome` is one the pattern allows.
    fn invariant(config: &Self::Config, outcome: &Self::Outcome) -> Result<(), String>;

    /// The outcome as the Python notes print it.
    fn render(outcome: &Self::Outcome) -> String;
}

/// A version of a scenario: correct, or a mutant with a known bug.
pub trait Variant: Copy + fmt::Debug + PartialEq + Send + Sync + 'static {
    const ALL: &'static [Self];
    /// The correct version that production runs.
    const PRODUCTION: Self;

    /// The name the CLI and the kill matrix use, e.g. `notify-one`.
    fn name(self) -> &'static str;

    /// The bug, for a mutant; `None` for a correct version.
    fn bug(self) -> Option<&'static str>;

    fn is_mutant(self) -> bool {
        self.bug().is_some()
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
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
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Spawn(e) => write!(f, "could not spawn a thread: {e}"),
            RunError::Panicked(p) => p.fmt(f),
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

/// A thread count of at least one.
pub(crate) fn thread_count(threads: usize) -> Result<usize, ConfigError> {
    if threads == 0 {
        return Err(ConfigError("threads must be at least 1".into()));
    }
    Ok(threads)
}

/// Explores `variant` of `S` under loom.
pub fn check_loom<S: Scenario>(
    config: &S::Config,
    variant: S::Variant,
    loom: &LoomConfig,
) -> Report<S::Outcome> {
    let (body_config, invariant_config) = (config.clone(), config.clone());
    explore::loom::explore(
        loom,
        move || model_run::<S, Loom>(&body_config, variant),
        move |outcome| S::invariant(&invariant_config, outcome),
    )
}

/// Explores `variant` of `S` under shuttle.
pub fn check_shuttle<S: Scenario>(
    config: &S::Config,
    variant: S::Variant,
    shuttle: &ShuttleConfig,
) -> Report<S::Outcome> {
    let (body_config, invariant_config) = (config.clone(), config.clone());
    explore::shuttle::explore(
        shuttle,
        move || model_run::<S, Shuttle>(&body_config, variant),
        move |outcome| S::invariant(&invariant_config, outcome),
    )
}

/// Inside a model, a run error is a failed execution: the panic carries it to the report.
fn model_run<S: Scenario, P: Primitives>(config: &S::Config, variant: S::Variant) -> S::Outcome {
    S::run::<P>(config, variant).unwrap_or_else(|e| panic!("{}: {e}", S::NAME))
}

/// The production backends, as the CLI and the benchmarks choose them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Production {
    Std,
    ParkingLot,
}

/// Why a production run printed nothing.
#[derive(Debug)]
pub enum ScenarioError {
    /// The parameters were bad: the user's mistake.
    Config(ConfigError),
    /// The run itself failed, or its outcome broke the invariant.
    Run(String),
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Config(e) => e.fmt(f),
            ScenarioError::Run(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// A scenario with its types erased, for the CLI's registry.
pub trait AnyScenario: Sync {
    fn name(&self) -> &'static str;
    fn seed(&self) -> &'static str;
    /// Each variant's name, and its bug if it is a mutant.
    fn variants(&self) -> Vec<(&'static str, Option<&'static str>)>;
    /// The CLI parameters it takes, by flag name.
    fn params(&self) -> &'static [&'static str];
    /// Runs the production variant and returns what the Python notes would print.
    fn run(&self, backend: Production, params: &Params) -> Result<String, ScenarioError>;
}

struct Entry<S>(std::marker::PhantomData<fn() -> S>);

impl<S: Scenario> AnyScenario for Entry<S> {
    fn name(&self) -> &'static str {
        S::NAME
    }

    fn seed(&self) -> &'static str {
        S::SEED
    }

    fn variants(&self) -> Vec<(&'static str, Option<&'static str>)> {
        S::Variant::ALL
            .iter()
            .map(|v| (v.name(), v.bug()))
            .collect()
    }

    fn params(&self) -> &'static [&'static str] {
        S::PARAMS
    }

    fn run(&self, backend: Production, params: &Params) -> Result<String, ScenarioError> {
        if let Some(flag) = params.set().find(|flag| !S::PARAMS.contains(flag)) {
            return Err(ScenarioError::Config(ConfigError(format!(
                "takes no --{flag}"
            ))));
        }
        let config = S::config(params).map_err(ScenarioError::Config)?;
        let variant = S::Variant::PRODUCTION;
        let outcome = match backend {
            Production::Std => S::run::<crate::sync::Std>(&config, variant),
            Production::ParkingLot => S::run::<crate::sync::ParkingLot>(&config, variant),
        }
        .map_err(|e| ScenarioError::Run(format!("{}: {e}", S::NAME)))?;
        S::invariant(&config, &outcome)
            .map_err(|e| ScenarioError::Run(format!("{}: invariant violated: {e}", S::NAME)))?;
        Ok(S::render(&outcome))
    }
}

/// Every scenario, in the order of the Python notes.
pub static ALL: &[&dyn AnyScenario] = &[
    &Entry::<appends::Appends>(std::marker::PhantomData),
    &Entry::<turns::Turns>(std::marker::PhantomData),
];

/// The scenario called `name`.
pub fn find(name: &str) -> Option<&'static dyn AnyScenario> {
    ALL.iter().copied().find(|s| s.name() == name)
}
