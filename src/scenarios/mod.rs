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
pub mod pool;
pub mod process_pool;
pub mod seed;
pub mod singleton;
pub mod turns;

use std::fmt;

use crate::explore::{self, Checker, LoomConfig, Report, ShuttleConfig};
use crate::process::World;
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

    /// The size `threadproof check` explores by default: small enough for loom to finish in
    /// seconds, large enough for every mutant to show its bug.
    fn model_config() -> Self::Config {
        Self::seed_config()
    }

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

    /// For a mutant some checker cannot catch by design: why, if `checker` (`loom`, `random`
    /// or `pct`) is one of them. Its verdict is then "escapes", as expected, never a pass.
    fn escapes(self, checker: &str) -> Option<&'static str> {
        let _ = checker;
        None
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

/// Explores `variant` of `S` with `checker`.
pub fn check<S: Scenario>(
    config: &S::Config,
    variant: S::Variant,
    checker: &Checker,
) -> Report<S::Outcome> {
    match checker {
        Checker::Loom(loom) => check_loom::<S>(config, variant, loom),
        Checker::Shuttle(shuttle) => check_shuttle::<S>(config, variant, shuttle),
    }
}

/// Inside a model, a run error is a failed execution: the panic carries it to the report.
fn model_run<S: Scenario, P: Primitives>(config: &S::Config, variant: S::Variant) -> S::Outcome {
    S::run::<P>(config, variant, World::Simulated).unwrap_or_else(|e| panic!("{}: {e}", S::NAME))
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
    /// Checks `params` without running anything.
    fn validate(&self, params: &Params) -> Result<(), ConfigError>;
    /// Explores `variant` with `checker`, at [`Scenario::model_config`] unless `params` say
    /// otherwise.
    fn check(
        &self,
        variant: &str,
        checker: &Checker,
        params: &Params,
    ) -> Result<Checked, ScenarioError>;
}

/// An outcome as an outcome table shows it: rendered on one line, and graded by the
/// scenario's invariant (jcstress's ACCEPTABLE / FORBIDDEN).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Graded {
    pub outcome: String,
    pub acceptable: bool,
}

/// One exploration of one variant: what `threadproof check` tabulates.
#[derive(Clone, Debug)]
pub struct Checked {
    pub scenario: &'static str,
    pub variant: &'static str,
    /// The mutant's bug; `None` for a correct variant.
    pub bug: Option<&'static str>,
    /// Why this checker cannot catch this mutant, if it cannot by design.
    pub escapes: Option<&'static str>,
    pub checker: Checker,
    pub report: Report<Graded>,
}

impl Checked {
    /// Whether the checker did what it must: pass a correct variant, fail a mutant.
    pub fn as_expected(&self) -> bool {
        let must_fail = self.bug.is_some() && self.escapes.is_none();
        must_fail == self.report.failure.is_some()
    }

    /// The verdict in words.
    pub fn verdict(&self) -> String {
        if let (Some(why), None) = (self.escapes, &self.report.failure) {
            return format!("escapes, as known: {why}");
        }
        match (self.bug, &self.report.failure) {
            (None, None) => "pass".into(),
            (Some(_), Some(failure)) => format!("caught: {}", failure.kind),
            (None, Some(failure)) => format!("UNEXPECTED {}", failure.kind),
            (Some(_), None) => "MUTANT ESCAPED".into(),
        }
    }

    /// The replay token of the failing execution, if there is one.
    pub fn schedule(&self) -> Option<explore::Schedule> {
        self.report
            .failure
            .as_ref()
            .map(|failure| explore::Schedule {
                checker: self.checker.clone(),
                execution: failure.execution,
            })
    }
}

struct Entry<S>(std::marker::PhantomData<fn() -> S>);

impl<S: Scenario> Entry<S> {
    /// The config for `params`, rejecting flags the scenario does not take.
    fn config(&self, params: &Params) -> Result<S::Config, ScenarioError> {
        if let Some(flag) = params.set().find(|flag| !S::PARAMS.contains(flag)) {
            return Err(ScenarioError::Config(ConfigError(format!(
                "takes no --{flag}"
            ))));
        }
        S::config(params).map_err(ScenarioError::Config)
    }
}

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
            Production::Std => S::run::<crate::sync::Std>(&config, variant, World::Os),
            Production::ParkingLot => {
                S::run::<crate::sync::ParkingLot>(&config, variant, World::Os)
            }
        }
        .map_err(|e| ScenarioError::Run(format!("{}: {e}", S::NAME)))?;
        S::invariant(&config, &outcome)
            .map_err(|e| ScenarioError::Run(format!("{}: invariant violated: {e}", S::NAME)))?;
        Ok(S::render(&outcome))
    }

    fn validate(&self, params: &Params) -> Result<(), ConfigError> {
        match self.config(params) {
            Ok(_) => Ok(()),
            Err(ScenarioError::Config(e)) => Err(e),
            Err(ScenarioError::Run(e)) => Err(ConfigError(e)),
        }
    }

    fn check(
        &self,
        variant: &str,
        checker: &Checker,
        params: &Params,
    ) -> Result<Checked, ScenarioError> {
        let chosen = S::Variant::from_name(variant).ok_or_else(|| {
            let names: Vec<&str> = S::Variant::ALL.iter().map(|v| v.name()).collect();
            ScenarioError::Config(ConfigError(format!(
                "no variant `{variant}` (expected one of: {})",
                names.join(", ")
            )))
        })?;
        let config = if *params == Params::default() {
            S::model_config()
        } else {
            self.config(params)?
        };
        let report = check::<S>(&config, chosen, checker).map_outcomes(|outcome| Graded {
            outcome: S::render(&outcome).trim_end().replace('\n', " | "),
            acceptable: S::invariant(&config, &outcome).is_ok(),
        });
        Ok(Checked {
            scenario: S::NAME,
            variant: chosen.name(),
            bug: chosen.bug(),
            escapes: chosen.escapes(checker.kind()),
            checker: checker.clone(),
            report,
        })
    }
}

/// Every scenario, in the order of the Python notes.
pub static ALL: &[&dyn AnyScenario] = &[
    &Entry::<appends::Appends>(std::marker::PhantomData),
    &Entry::<pool::Pool>(std::marker::PhantomData),
    &Entry::<isolation::Isolation>(std::marker::PhantomData),
    &Entry::<process_pool::ProcessPoolScenario>(std::marker::PhantomData),
    &Entry::<manager::ManagerScenario>(std::marker::PhantomData),
    &Entry::<singleton::Singleton>(std::marker::PhantomData),
    &Entry::<counter::Counter>(std::marker::PhantomData),
    &Entry::<turns::Turns>(std::marker::PhantomData),
];

/// The scenario called `name`.
pub fn find(name: &str) -> Option<&'static dyn AnyScenario> {
    ALL.iter().copied().find(|s| s.name() == name)
}
