//! The mutant kill matrix: every known-bad variant against every checker that must catch it,
//! with the kind of failure it must be reported as; and every correct variant against the
//! same checkers, which must pass.
//!
//! | scenario | mutant       | loom                 | shuttle random, pct  |
//! |----------|--------------|----------------------|----------------------|
//! | appends  | lost-update  | invariant violated   | invariant violated   |
//! | turns    | notify-one   | deadlock             | deadlock             |
//! | turns    | if-not-while | invariant violated * | invariant violated * |
//!
//! `*` only through the injected spurious wakeups: with them off, both checkers pass the
//! mutant, and the rows marked `escapes` pin that down, since it is why injection exists.

#[path = "../tests/common/mod.rs"]
mod common;

use threadproof::explore::{FailureKind, LoomConfig, Report, ShuttleConfig};
use threadproof::scenarios::appends::{Appends, AppendsConfig, AppendsVariant};
use threadproof::scenarios::turns::{Turns, TurnsConfig, TurnsVariant};
use threadproof::scenarios::{check_loom, check_shuttle, Scenario, Variant};

use FailureKind::{Deadlock, InvariantViolated};

/// A checker of the matrix, with its spurious-wakeup setting.
#[derive(Clone, Copy, Debug)]
enum Checker {
    /// Exhaustive loom, with at most this many spurious wakeups per execution.
    Loom { spurious: usize },
    /// 1,000 random schedules; spurious wakeups with probability 1/`spurious_one_in` (0: off).
    Random { spurious_one_in: u32 },
    /// 1,000 PCT schedules of depth 3.
    Pct { spurious_one_in: u32 },
}

const LOOM: Checker = Checker::Loom { spurious: 1 };
const LOOM_NO_SPURIOUS: Checker = Checker::Loom { spurious: 0 };
const RANDOM: Checker = Checker::Random { spurious_one_in: 4 };
const RANDOM_NO_SPURIOUS: Checker = Checker::Random { spurious_one_in: 0 };
const PCT: Checker = Checker::Pct { spurious_one_in: 4 };
const PCT_NO_SPURIOUS: Checker = Checker::Pct { spurious_one_in: 0 };

fn check<S: Scenario>(
    config: &S::Config,
    variant: S::Variant,
    checker: Checker,
) -> Report<S::Outcome> {
    let report = match checker {
        Checker::Loom { spurious } => check_loom::<S>(
            config,
            variant,
            &LoomConfig::exhaustive().spurious_wakeups(spurious),
        ),
        Checker::Random { spurious_one_in } => check_shuttle::<S>(
            config,
            variant,
            &ShuttleConfig::random(1000).spurious_one_in(spurious_one_in),
        ),
        Checker::Pct { spurious_one_in } => check_shuttle::<S>(
            config,
            variant,
            &ShuttleConfig::pct(3, 1000).spurious_one_in(spurious_one_in),
        ),
    };
    common::show(&format!("{} {}", S::NAME, variant.name()), &report);
    report
}

/// `$name`: `$variant` of `$scenario` at `$config`, under `$checker`, ends with `$expected`
/// (`None`: passes).
macro_rules! matrix {
    ($($name:ident: $scenario:ty, $config:expr, $variant:expr, $checker:expr => $expected:expr;)*) => {$(
        #[test]
        fn $name() {
            let expected: Option<FailureKind> = $expected;
            let report = check::<$scenario>(&$config, $variant, $checker);
            assert_eq!(report.failure_kind(), expected, "{}", report.summary());
            match (&report.failure, expected) {
                (None, _) => assert!(!report.outcomes.is_empty(), "{}", report.summary()),
                (Some(failure), kind) => {
                    // A caught mutant comes with the interleaving that broke it.
                    let trace = failure.trace.as_ref().expect("a failure carries its trace");
                    assert!(trace.threads().len() > 1, "{}", failure.explain());
                    if kind == Some(Deadlock) {
                        assert!(!trace.blocked().is_empty(), "{}", failure.explain());
                    }
                }
            }
        }
    )*};
}

fn appends() -> AppendsConfig {
    AppendsConfig::with_threads(3).unwrap()
}

/// notify-one needs three threads: with two, the one woken is always the right one.
fn turns() -> TurnsConfig {
    TurnsConfig::new(3, 3).unwrap()
}

matrix! {
    lost_update_caught_by_loom: Appends, appends(), AppendsVariant::LostUpdate, LOOM => Some(InvariantViolated);
    lost_update_caught_by_random: Appends, appends(), AppendsVariant::LostUpdate, RANDOM => Some(InvariantViolated);
    lost_update_caught_by_pct: Appends, appends(), AppendsVariant::LostUpdate, PCT => Some(InvariantViolated);
    locked_appends_pass_loom: Appends, appends(), AppendsVariant::Locked, LOOM => None;
    locked_appends_pass_random: Appends, appends(), AppendsVariant::Locked, RANDOM => None;
    locked_appends_pass_pct: Appends, appends(), AppendsVariant::Locked, PCT => None;

    notify_one_caught_by_loom: Turns, turns(), TurnsVariant::NotifyOne, LOOM => Some(Deadlock);
    notify_one_caught_by_random: Turns, turns(), TurnsVariant::NotifyOne, RANDOM => Some(Deadlock);
    notify_one_caught_by_pct: Turns, turns(), TurnsVariant::NotifyOne, PCT => Some(Deadlock);

    if_not_while_caught_by_loom: Turns, turns(), TurnsVariant::IfNotWhile, LOOM => Some(InvariantViolated);
    if_not_while_caught_by_random: Turns, turns(), TurnsVariant::IfNotWhile, RANDOM => Some(InvariantViolated);
    if_not_while_caught_by_pct: Turns, turns(), TurnsVariant::IfNotWhile, PCT => Some(InvariantViolated);
    if_not_while_escapes_loom_without_spurious: Turns, turns(), TurnsVariant::IfNotWhile, LOOM_NO_SPURIOUS => None;
    if_not_while_escapes_random_without_spurious: Turns, turns(), TurnsVariant::IfNotWhile, RANDOM_NO_SPURIOUS => None;
    if_not_while_escapes_pct_without_spurious: Turns, turns(), TurnsVariant::IfNotWhile, PCT_NO_SPURIOUS => None;

    targeted_turns_pass_loom: Turns, turns(), TurnsVariant::Targeted, LOOM => None;
    targeted_turns_pass_random: Turns, turns(), TurnsVariant::Targeted, RANDOM => None;
    targeted_turns_pass_pct: Turns, turns(), TurnsVariant::Targeted, PCT => None;
    // notify_all wakes every thread every turn: with spurious wakeups too, loom does not finish
    // k=3 exhaustively in 30 s (~10x the executions of targeted wakeups), so this row proves it
    // without them.
    notify_all_turns_pass_loom: Turns, turns(), TurnsVariant::NotifyAll, LOOM_NO_SPURIOUS => None;
    notify_all_turns_pass_random: Turns, turns(), TurnsVariant::NotifyAll, RANDOM => None;
    notify_all_turns_pass_pct: Turns, turns(), TurnsVariant::NotifyAll, PCT => None;
}

/// Every mutant of every scenario appears in the matrix above: a new mutant without a row
/// fails here.
#[test]
fn every_mutant_has_a_row() {
    let source = include_str!("mutants.rs");
    for scenario in threadproof::scenarios::ALL {
        for (variant, bug) in scenario.variants() {
            if bug.is_some() {
                let row = format!("{}_caught_by_loom", variant.replace('-', "_"));
                assert!(
                    source.contains(&row),
                    "{} mutant {variant} has no row {row}",
                    scenario.name()
                );
            }
        }
    }
}
