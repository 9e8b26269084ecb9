//! The registry: every scenario with its types erased, for the CLI, `check` and the reports.
//!
//! Invariant: [`ALL`] lists every scenario once, in the order of the Python notes; what the
//! CLI runs, checks, lists and tabulates comes from it and from each variant's own data
//! ([`Variant::mutant`]), never from a copy.

use std::fmt;

use super::*;
use crate::explore::Checker;

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
    fn notes_cell(&self) -> &'static str;
    /// Each variant's name, and its bug if it is a mutant.
    fn variants(&self) -> Vec<(&'static str, Option<&'static str>)>;
    /// Each mutant's name and data.
    fn mutants(&self) -> Vec<(&'static str, Mutant)>;
    /// The CLI parameters it takes, by flag name.
    fn params(&self) -> &'static [&'static str];
    /// Runs the production variant and returns what the Python notes would print.
    fn run(&self, backend: Production, params: &Params) -> Result<String, ScenarioError>;
    /// Checks `params` without running anything.
    fn validate(&self, params: &Params) -> Result<(), ConfigError>;
    /// `checker` as `threadproof check` runs it here: loom within the scenario's
    /// [`Scenario::CHECK_PREEMPTION_BOUND`], unless it has a bound of its own.
    fn with_check_bound(&self, checker: &Checker) -> Checker;
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
    /// What the checker must report, from the variant's own data.
    pub expected: Expected,
    pub checker: Checker,
    pub report: Report<Graded>,
}

impl Checked {
    /// Whether the checker did what the variant's data says it must: pass a correct variant,
    /// catch a mutant with the stated failure kind, or let a mutant it cannot see escape.
    /// Never for an exploration that explored nothing, judged no execution (every one cut), or
    /// that its checker could not run (see [`Report::unsupported`]): that is neither a pass nor
    /// a failure.
    pub fn as_expected(&self) -> bool {
        // A pass is `Report::passed`'s (an execution the invariant judged); a failure needs
        // only to be found.
        let explored = self.report.passed() || self.report.failure.is_some();
        explored && self.expected.met_by(self.report.failure_kind())
    }

    /// The verdict in words.
    pub fn verdict(&self) -> String {
        if let Some(unsupported) = self.report.unsupported() {
            return unsupported.reason.clone();
        }
        if self.report.executions == 0 {
            return "NOTHING EXPLORED".into();
        }
        if self.report.judged() == 0 && self.report.failure.is_none() {
            return "NOTHING JUDGED: every execution cut".into();
        }
        let found = self.report.failure_kind();
        match (self.expected, found) {
            (Expected::Passes, None) => "pass".into(),
            (Expected::Escapes(why), None) => format!("escapes, as known: {why}"),
            (Expected::Caught(kind), Some(found)) if kind == found => format!("caught: {kind}"),
            (Expected::Caught(_), None) => "MUTANT ESCAPED".into(),
            (Expected::Caught(kind), Some(found)) => {
                format!("UNEXPECTED {found} (expected {kind})")
            }
            (Expected::Escapes(_), Some(found)) => {
                format!("UNEXPECTED {found} (expected to escape)")
            }
            (Expected::Passes, Some(found)) => format!("UNEXPECTED {found}"),
        }
    }

    /// The replay token of the failing execution, if there is one.
    pub fn replay_token(&self) -> Option<explore::ReplayToken> {
        self.report.failure.as_ref().map(|f| f.replay.clone())
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

    fn notes_cell(&self) -> &'static str {
        S::NOTES_CELL
    }

    fn variants(&self) -> Vec<(&'static str, Option<&'static str>)> {
        S::Variant::ALL
            .iter()
            .map(|v| (v.name(), v.bug()))
            .collect()
    }

    fn mutants(&self) -> Vec<(&'static str, Mutant)> {
        S::Variant::ALL
            .iter()
            .filter_map(|v| v.mutant().map(|m| (v.name(), m)))
            .collect()
    }

    fn params(&self) -> &'static [&'static str] {
        S::PARAMS
    }

    fn with_check_bound(&self, checker: &Checker) -> Checker {
        match (checker, S::CHECK_PREEMPTION_BOUND) {
            (Checker::Loom(loom), Some(bound)) if loom.preemption_bound.is_none() => {
                Checker::Loom(loom.clone().preemption_bound(bound))
            }
            _ => checker.clone(),
        }
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
        let report = explore::<S>(&config, chosen, checker).map_outcomes(|outcome| Graded {
            outcome: S::render(&outcome).trim_end().replace('\n', " | "),
            acceptable: S::invariant(&config, &outcome).is_ok(),
        });
        Ok(Checked {
            scenario: S::NAME,
            variant: chosen.name(),
            bug: chosen.bug(),
            expected: chosen.expected(checker.kind(), checker.spurious_wakeups()),
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

/// The kill matrix as a Markdown table, from every scenario's variant data: each mutant, its
/// bug, and what each checker must report on it in `threadproof check` (spurious wakeups on).
/// The README carries this table; a test keeps the two the same.
pub fn kill_table() -> String {
    let mut out = String::from("| scenario | mutant | bug |");
    for kind in CheckerKind::ALL {
        out += &format!(" {kind} |");
    }
    out += "\n|---|---|---|";
    for _ in CheckerKind::ALL {
        out += "---|";
    }
    out += "\n";
    for scenario in ALL {
        for (variant, mutant) in scenario.mutants() {
            out += &format!("| {} | `{variant}` | {} |", scenario.name(), mutant.bug);
            for kind in CheckerKind::ALL {
                let mut cell = mutant.expected(kind, true).describe();
                if mutant.needs_spurious_wakeups
                    && matches!(mutant.expected(kind, true), Expected::Caught(_))
                {
                    cell += ", only with spurious wakeups";
                }
                out += &format!(" {cell} |");
            }
            out += "\n";
        }
    }
    out
}
