//! The kill matrix as tests: each scenario file lists its variants in [`kill_rows!`], which
//! generates one test per variant and checker kind, and [`run_row`] asserts what the variant's
//! own data says that checker must report ([`Variant::expected`]): pass, be caught with a
//! given failure kind, or escape for a stated reason.
//!
//! Invariant: no row states its verdict; the data does, and `threadproof check --mutants`, the
//! README's table (`threadproof list --kill-matrix`) and these rows all read the same data.
//! `every_variant_has_its_kill_rows` (in `main.rs`) checks that every variant of every
//! scenario has its rows.

use threadproof::check::Portfolio;
use threadproof::explore::{Budget, Checker, CheckerKind, FailureKind, LoomConfig, ShuttleConfig};
use threadproof::scenarios::{self, Expected, Scenario, Variant};

use crate::support::show;

/// The four checkers a scenario's rows run, at its chosen settings.
pub struct Checkers {
    loom: LoomConfig,
    random: ShuttleConfig,
    pct: ShuttleConfig,
    urw: ShuttleConfig,
}

impl Checkers {
    /// As `threadproof check` runs them, without its budget: the library's standard
    /// [`Portfolio`] (exhaustive loom with up to one spurious wakeup anywhere; 1,000 random,
    /// PCT (depth 3) and URW schedules each, with a spurious wakeup at one wait in 4).
    pub fn as_check() -> Checkers {
        let portfolio = Portfolio::standard().budget(Budget::UNLIMITED);
        let shuttle = |kind: CheckerKind| {
            let found = portfolio
                .shuttle
                .iter()
                .find(|s| Checker::Shuttle((*s).clone()).kind() == kind);
            found
                .cloned()
                .expect("the standard portfolio runs every shuttle scheduler")
        };
        Checkers {
            loom: portfolio
                .loom
                .clone()
                .expect("the standard portfolio runs loom"),
            random: shuttle(CheckerKind::Random),
            pct: shuttle(CheckerKind::Pct),
            urw: shuttle(CheckerKind::Urw),
        }
    }

    /// For the process scenarios, whose correct versions loom cannot finish in a test's time
    /// without a bound: loom at preemption bound 1 (about a second; each mutant fails in its
    /// first few executions), 1,000 random, PCT and URW schedules each, no spurious wakeups.
    pub fn bounded() -> Checkers {
        Checkers {
            loom: LoomConfig::exhaustive().preemption_bound(1),
            random: ShuttleConfig::random(1000),
            pct: ShuttleConfig::pct(3, 1000),
            urw: ShuttleConfig::urw(1000),
        }
    }

    /// The same checkers with loom within `bound` preemptions (none: every interleaving), as
    /// `threadproof check` bounds a scenario by its `CHECK_PREEMPTION_BOUND`.
    pub fn within(mut self, bound: Option<usize>) -> Checkers {
        self.loom.preemption_bound = bound;
        self
    }

    /// The checker of `kind`, with spurious wakeups as chosen or turned off.
    pub fn checker(&self, kind: CheckerKind, spurious: Spurious) -> Checker {
        let on = spurious == Spurious::AsChosen;
        match kind {
            CheckerKind::Loom => {
                let wakeups = if on { self.loom.spurious_wakeups } else { 0 };
                Checker::Loom(self.loom.clone().spurious_wakeups(wakeups))
            }
            CheckerKind::Random | CheckerKind::Pct | CheckerKind::Urw => {
                let shuttle = match kind {
                    CheckerKind::Random => &self.random,
                    CheckerKind::Pct => &self.pct,
                    _ => &self.urw,
                };
                let one_in = if on { shuttle.spurious_one_in } else { 0 };
                Checker::Shuttle(shuttle.clone().spurious_one_in(one_in))
            }
        }
    }
}

/// Whether a row keeps its checkers' spurious wakeups or turns them off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spurious {
    AsChosen,
    Off,
}

/// One generated row, for the completeness test.
#[derive(Clone, Debug)]
pub struct Row {
    pub scenario: &'static str,
    pub variant: &'static str,
    pub kind: CheckerKind,
    pub spurious_wakeups: bool,
}

impl Row {
    pub fn new<S: Scenario>(variant: S::Variant, checker: &Checker) -> Row {
        Row {
            scenario: S::NAME,
            variant: variant.name(),
            kind: checker.kind(),
            spurious_wakeups: checker.spurious_wakeups(),
        }
    }
}

/// Explores `variant` of `S` at `config` with `checker` and asserts what the variant's data
/// says: the failure kind (none for a pass or an escape), and what a failure must carry (the
/// interleaving that broke it, across more than one thread; for a deadlock, who waits on what;
/// how simple it is, and its replay token).
pub fn run_row<S: Scenario>(config: &S::Config, variant: S::Variant, checker: &Checker) {
    let expected = variant.expected(checker.kind(), checker.spurious_wakeups());
    let report = scenarios::explore::<S>(config, variant, checker);
    show(
        &format!("{} {} {}", S::NAME, variant.name(), checker.token()),
        &report,
    );
    let expected_kind = match expected {
        Expected::Caught(kind) => Some(kind),
        Expected::Passes | Expected::Escapes(_) => None,
    };
    assert_eq!(
        report.failure_kind(),
        expected_kind,
        "expected {}: {}",
        expected.describe(),
        report.summary()
    );
    match &report.failure {
        None => assert!(!report.outcomes.is_empty(), "{}", report.summary()),
        Some(failure) => {
            let trace = failure.trace.as_ref().expect("a failure carries its trace");
            assert!(trace.threads().len() > 1, "{}", failure.explain());
            if failure.kind == FailureKind::Deadlock {
                assert!(!trace.blocked().is_empty(), "{}", failure.explain());
            }
            // The simplest counterexample the checker found, and how to replay it.
            let minimal = failure
                .minimal
                .as_ref()
                .expect("a failure says how simple it is");
            assert!(
                failure.explain().contains(&minimal.to_string()),
                "{}",
                failure.explain()
            );
            assert!(failure
                .explain()
                .contains(&format!("explore::replay(\"{}\"", failure.replay)));
        }
    }
}

/// A scenario's kill rows: `kill_rows! { Scenario, config, checkers; name: variant; ... }`
/// generates `mod kill`, with `mod name` per variant holding one test per checker kind
/// (`loom`, `random`, `pct`, `urw`), all exploring `config` with `checkers` ([`Checkers`]).
/// After a variant, `also_without_spurious` adds the same four rows without spurious wakeups
/// (`loom_without_spurious`, ...: every mutant that needs spurious wakeups must have them);
/// `loom_without_spurious` replaces its `loom` row by one without them (for a variant loom
/// cannot finish with them in a test's time).
macro_rules! kill_rows {
    ($scenario:ty, $config:expr, $checkers:expr;
     $($name:ident: $variant:expr $(, $setting:ident)?;)+) => {
        /// The kill rows: each variant under each checker kind, its verdict from its data.
        pub(crate) mod kill {
            #[allow(unused_imports)]
            use super::*;

            fn config() -> <$scenario as threadproof::scenarios::Scenario>::Config {
                $config
            }

            fn checkers() -> $crate::kill_matrix::Checkers {
                $checkers
            }

            $(
                mod $name {
                    #[allow(unused_imports)]
                    use super::*;
                    $crate::kill_matrix::kill_rows!(@setting $scenario, $variant, [$($setting)?]);
                }
            )+

            /// Every row above.
            pub fn rows() -> Vec<$crate::kill_matrix::Row> {
                let mut rows = Vec::new();
                $(rows.extend($name::rows());)+
                rows
            }
        }
    };
    (@setting $scenario:ty, $variant:expr, []) => {
        $crate::kill_matrix::kill_rows!(@rows $scenario, $variant;
            loom: Loom AsChosen, random: Random AsChosen, pct: Pct AsChosen, urw: Urw AsChosen);
    };
    (@setting $scenario:ty, $variant:expr, [also_without_spurious]) => {
        $crate::kill_matrix::kill_rows!(@rows $scenario, $variant;
            loom: Loom AsChosen, random: Random AsChosen, pct: Pct AsChosen, urw: Urw AsChosen,
            loom_without_spurious: Loom Off, random_without_spurious: Random Off,
            pct_without_spurious: Pct Off, urw_without_spurious: Urw Off);
    };
    (@setting $scenario:ty, $variant:expr, [loom_without_spurious]) => {
        $crate::kill_matrix::kill_rows!(@rows $scenario, $variant;
            loom_without_spurious: Loom Off, random: Random AsChosen, pct: Pct AsChosen,
            urw: Urw AsChosen);
    };
    (@rows $scenario:ty, $variant:expr; $($test:ident: $kind:ident $spurious:ident),+) => {
        /// The checker of this row.
        fn checker(
            kind: threadproof::explore::CheckerKind,
            spurious: $crate::kill_matrix::Spurious,
        ) -> threadproof::explore::Checker {
            super::checkers().checker(kind, spurious)
        }

        $(
            #[test]
            fn $test() {
                $crate::kill_matrix::run_row::<$scenario>(
                    &super::config(),
                    $variant,
                    &checker(
                        threadproof::explore::CheckerKind::$kind,
                        $crate::kill_matrix::Spurious::$spurious,
                    ),
                );
            }
        )+

        pub fn rows() -> Vec<$crate::kill_matrix::Row> {
            vec![$(
                $crate::kill_matrix::Row::new::<$scenario>(
                    $variant,
                    &checker(
                        threadproof::explore::CheckerKind::$kind,
                        $crate::kill_matrix::Spurious::$spurious,
                    ),
                )
            ),+]
        }
    };
}
pub(crate) use kill_rows;
