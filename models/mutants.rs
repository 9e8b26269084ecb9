//! The mutant kill matrix: every known-bad variant against every checker that must catch it,
//! with the kind of failure it must be reported as; and every correct variant against the
//! same checkers, which must pass.
//!
//! | scenario | mutant       | loom                 | shuttle random, pct  |
//! |----------|--------------|----------------------|----------------------|
//! | appends  | lost-update  | invariant violated   | invariant violated   |
//! | turns    | notify-one   | deadlock             | deadlock             |
//! | turns    | if-not-while | invariant violated * | invariant violated * |
//! | pool     | missed-wakeup          | deadlock           | deadlock                 |
//! | pool     | lost-completion        | deadlock           | deadlock                 |
//! | pool     | double-completion      | panic ***          | panic ***                |
//! | singleton| double-init            | invariant violated | invariant violated       |
//! | singleton| relaxed-publication    | panic (causality)  | passes: cannot see it ** |
//! | counter  | increment-outside-lock | invariant violated | invariant violated       |
//!
//! `*` only through the injected spurious wakeups: with them off, both checkers pass the
//! mutant, and the rows marked `escapes` pin that down, since it is why injection exists.
//!
//! `**` shuttle runs every atomic as `SeqCst`, so a `Relaxed` publication is as good as a
//! `Release` one there: no schedule can show the bug. Loom models the weaker orderings and
//! reports the fast path's read of the value as a causality violation. The `escapes` rows pin
//! down that shuttle passes it, so that the gap is stated, not silent.
//!
//! `***` `as_completed` holds each future once and reports a second completion of the same
//! future as an internal error (a panic), before the duplicate can reach the caller.

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
/// fails here. Loom must catch every mutant (`<mutant>_caught_by_loom`). Shuttle must have a
/// row too: one that catches it (`_caught_by_random` or `_caught_by_pct`) or, for a mutant
/// shuttle cannot see by construction (a weak-memory bug: its atomics are all SeqCst), rows
/// that pin down that it escapes (`_escapes_random`, `_escapes_pct`); and never both for the
/// same schedule kind.
#[test]
fn every_mutant_has_a_row() {
    let source = include_str!("mutants.rs");
    // A row is a `matrix!` entry (`name: ...`) or a test function (`fn name()`).
    let has_row =
        |row: &str| source.contains(&format!("{row}: ")) || source.contains(&format!("fn {row}()"));
    for scenario in threadproof::scenarios::ALL {
        for (variant, bug) in scenario.variants() {
            if bug.is_none() {
                continue;
            }
            let mutant = variant.replace('-', "_");
            let row = format!("{mutant}_caught_by_loom");
            assert!(
                has_row(&row),
                "{} mutant {variant} has no row {row}",
                scenario.name()
            );
            let mut shuttle_rows = 0;
            for schedules in ["random", "pct"] {
                let caught = has_row(&format!("{mutant}_caught_by_{schedules}"));
                let escapes = has_row(&format!("{mutant}_escapes_{schedules}"));
                assert!(
                    !(caught && escapes),
                    "{} mutant {variant}: {schedules} both catches it and lets it escape",
                    scenario.name()
                );
                shuttle_rows += usize::from(caught || escapes);
            }
            assert!(
                shuttle_rows > 0,
                "{} mutant {variant} has no shuttle row ({mutant}_caught_by_random or _pct, or \
                 {mutant}_escapes_random and _pct)",
                scenario.name()
            );
        }
    }
}

/// The process scenarios' mutants, over simulated processes. Loom runs at preemption bound 1
/// (the correct versions take about a second there; each mutant fails in its first few
/// executions); shuttle runs 1,000 random or PCT (depth 3) schedules.
///
/// | scenario     | mutant              | loom, random, pct  | needs                        |
/// |--------------|---------------------|--------------------|------------------------------|
/// | process_pool | loses-task-on-crash | deadlock           | a worker killed mid-task     |
/// | process_pool | reruns-on-crash     | invariant violated | a worker killed mid-task     |
/// | manager      | applies-twice       | invariant violated | an answer lost after applying |
mod processes {
    use super::common;
    use threadproof::explore::{FailureKind, LoomConfig, Report, ShuttleConfig};
    use threadproof::process::Death;
    use threadproof::scenarios::manager::{ManagerConfig, ManagerScenario, ManagerScenarioVariant};
    use threadproof::scenarios::process_pool::{
        ProcessPoolConfig, ProcessPoolScenario, ProcessPoolVariant,
    };
    use threadproof::scenarios::{check_loom, check_shuttle, Scenario, Variant};

    use FailureKind::{Deadlock, InvariantViolated};

    #[derive(Clone, Copy, Debug)]
    enum Checker {
        Loom,
        Random,
        Pct,
    }

    fn check<S: Scenario>(
        config: &S::Config,
        variant: S::Variant,
        checker: Checker,
    ) -> Report<S::Outcome> {
        let report = match checker {
            Checker::Loom => check_loom::<S>(
                config,
                variant,
                &LoomConfig::exhaustive().preemption_bound(1),
            ),
            Checker::Random => check_shuttle::<S>(config, variant, &ShuttleConfig::random(1000)),
            Checker::Pct => check_shuttle::<S>(config, variant, &ShuttleConfig::pct(3, 1000)),
        };
        common::show(&format!("{} {}", S::NAME, variant.name()), &report);
        report
    }

    /// 2 workers, 3 tasks, the worker of task 1 killed mid-task.
    fn crashing_pool() -> ProcessPoolConfig {
        ProcessPoolConfig::new(2, 3)
            .unwrap()
            .with_crash(1, Death::Kill)
            .unwrap()
    }

    /// 2 clients, 3 appends, the answer to append 0 lost once after it was applied.
    fn losing_manager() -> ManagerConfig {
        ManagerConfig::new(2, 3).unwrap().losing_answer(0).unwrap()
    }

    macro_rules! rows {
        ($($name:ident: $scenario:ty, $config:expr, $variant:expr, $checker:expr => $expected:expr;)*) => {$(
            #[test]
            fn $name() {
                let expected: Option<FailureKind> = $expected;
                let report = check::<$scenario>(&$config, $variant, $checker);
                assert_eq!(report.failure_kind(), expected, "{}", report.summary());
                if expected.is_none() {
                    assert!(!report.outcomes.is_empty(), "{}", report.summary());
                }
            }
        )*};
    }

    rows! {
        loses_task_on_crash_caught_by_loom: ProcessPoolScenario, crashing_pool(), ProcessPoolVariant::LosesTaskOnCrash, Checker::Loom => Some(Deadlock);
        loses_task_on_crash_caught_by_random: ProcessPoolScenario, crashing_pool(), ProcessPoolVariant::LosesTaskOnCrash, Checker::Random => Some(Deadlock);
        loses_task_on_crash_caught_by_pct: ProcessPoolScenario, crashing_pool(), ProcessPoolVariant::LosesTaskOnCrash, Checker::Pct => Some(Deadlock);
        reruns_on_crash_caught_by_loom: ProcessPoolScenario, crashing_pool(), ProcessPoolVariant::RerunsOnCrash, Checker::Loom => Some(InvariantViolated);
        reruns_on_crash_caught_by_random: ProcessPoolScenario, crashing_pool(), ProcessPoolVariant::RerunsOnCrash, Checker::Random => Some(InvariantViolated);
        reruns_on_crash_caught_by_pct: ProcessPoolScenario, crashing_pool(), ProcessPoolVariant::RerunsOnCrash, Checker::Pct => Some(InvariantViolated);
        fails_the_task_passes_loom: ProcessPoolScenario, crashing_pool(), ProcessPoolVariant::FailsTheTask, Checker::Loom => None;
        fails_the_task_passes_random: ProcessPoolScenario, crashing_pool(), ProcessPoolVariant::FailsTheTask, Checker::Random => None;
        fails_the_task_passes_pct: ProcessPoolScenario, crashing_pool(), ProcessPoolVariant::FailsTheTask, Checker::Pct => None;

        applies_twice_caught_by_loom: ManagerScenario, losing_manager(), ManagerScenarioVariant::AppliesTwice, Checker::Loom => Some(InvariantViolated);
        applies_twice_caught_by_random: ManagerScenario, losing_manager(), ManagerScenarioVariant::AppliesTwice, Checker::Random => Some(InvariantViolated);
        applies_twice_caught_by_pct: ManagerScenario, losing_manager(), ManagerScenarioVariant::AppliesTwice, Checker::Pct => Some(InvariantViolated);
        // Without a lost answer nothing is retried, and the mutant is indistinguishable.
        applies_twice_escapes_loom_without_a_lost_answer: ManagerScenario, ManagerConfig::new(2, 3).unwrap(), ManagerScenarioVariant::AppliesTwice, Checker::Loom => None;
        applies_once_passes_loom: ManagerScenario, losing_manager(), ManagerScenarioVariant::AppliesOnce, Checker::Loom => None;
        applies_once_passes_random: ManagerScenario, losing_manager(), ManagerScenarioVariant::AppliesOnce, Checker::Random => None;
        applies_once_passes_pct: ManagerScenario, losing_manager(), ManagerScenarioVariant::AppliesOnce, Checker::Pct => None;
    }
}

/// `isolation`'s mutant: children that share the parent's memory break the invariant in every
/// execution, whatever the checker.
mod isolation {
    use threadproof::explore::{FailureKind, LoomConfig, ShuttleConfig};
    use threadproof::scenarios::isolation::{Isolation, IsolationConfig, IsolationVariant};
    use threadproof::scenarios::{check_loom, check_shuttle};

    #[test]
    fn shared_memory_caught_by_loom() {
        let config = IsolationConfig::with_processes(2).unwrap();
        let loom = LoomConfig::exhaustive().preemption_bound(1);
        let report = check_loom::<Isolation>(&config, IsolationVariant::SharedMemory, &loom);
        assert_eq!(
            report.failure_kind(),
            Some(FailureKind::InvariantViolated),
            "{}",
            report.summary()
        );
    }

    #[test]
    fn shared_memory_caught_by_random() {
        let config = IsolationConfig::with_processes(2).unwrap();
        let shuttle = ShuttleConfig::random(100);
        let report = check_shuttle::<Isolation>(&config, IsolationVariant::SharedMemory, &shuttle);
        assert_eq!(
            report.failure_kind(),
            Some(FailureKind::InvariantViolated),
            "{}",
            report.summary()
        );
    }
}

/// The thread pool, the singleton and the counter (see the table at the top), through the
/// `matrix!` rows above, traces and all.
mod executors {
    use super::{check, FailureKind, LOOM, LOOM_NO_SPURIOUS, PCT, RANDOM, RANDOM_NO_SPURIOUS};
    use threadproof::scenarios::counter::{Counter, CounterConfig, CounterVariant};
    use threadproof::scenarios::pool::{Pool, PoolConfig, PoolVariant};
    use threadproof::scenarios::singleton::{Singleton, SingletonConfig, SingletonVariant};

    use FailureKind::{Deadlock, InvariantViolated, Panicked};

    /// One worker, two tasks: the smallest pool that shows every pool mutant (double-completion
    /// needs a second task to be yielded in the duplicate's place), and small enough for
    /// exhaustive loom with a spurious wakeup (~16k executions). Deeper: `models/loom.rs`.
    fn pool() -> PoolConfig {
        PoolConfig::new(1, 2).unwrap()
    }

    /// Three threads racing on the first `get_connection`, with a fixed r.
    fn singleton() -> SingletonConfig {
        SingletonConfig::new(3).unwrap().with_r(4).unwrap()
    }

    /// The seed's three named threads.
    fn counter() -> CounterConfig {
        CounterConfig::new(3).unwrap()
    }

    matrix! {
        missed_wakeup_caught_by_loom: Pool, pool(), PoolVariant::MissedWakeup, LOOM => Some(Deadlock);
        missed_wakeup_caught_by_random: Pool, pool(), PoolVariant::MissedWakeup, RANDOM => Some(Deadlock);
        missed_wakeup_caught_by_pct: Pool, pool(), PoolVariant::MissedWakeup, PCT => Some(Deadlock);
        // Not a spurious-wakeup bug: found with injection off too.
        missed_wakeup_caught_by_loom_without_spurious: Pool, pool(), PoolVariant::MissedWakeup, LOOM_NO_SPURIOUS => Some(Deadlock);
        missed_wakeup_caught_by_random_without_spurious: Pool, pool(), PoolVariant::MissedWakeup, RANDOM_NO_SPURIOUS => Some(Deadlock);
        lost_completion_caught_by_loom: Pool, pool(), PoolVariant::LostCompletion, LOOM => Some(Deadlock);
        lost_completion_caught_by_random: Pool, pool(), PoolVariant::LostCompletion, RANDOM => Some(Deadlock);
        lost_completion_caught_by_pct: Pool, pool(), PoolVariant::LostCompletion, PCT => Some(Deadlock);
        double_completion_caught_by_loom: Pool, pool(), PoolVariant::DoubleCompletion, LOOM => Some(Panicked);
        double_completion_caught_by_random: Pool, pool(), PoolVariant::DoubleCompletion, RANDOM => Some(Panicked);
        double_completion_caught_by_pct: Pool, pool(), PoolVariant::DoubleCompletion, PCT => Some(Panicked);
        correct_pool_passes_loom: Pool, pool(), PoolVariant::Correct, LOOM => None;
        correct_pool_passes_random: Pool, pool(), PoolVariant::Correct, RANDOM => None;
        correct_pool_passes_pct: Pool, pool(), PoolVariant::Correct, PCT => None;

        double_init_caught_by_loom: Singleton, singleton(), SingletonVariant::DoubleInit, LOOM => Some(InvariantViolated);
        double_init_caught_by_random: Singleton, singleton(), SingletonVariant::DoubleInit, RANDOM => Some(InvariantViolated);
        double_init_caught_by_pct: Singleton, singleton(), SingletonVariant::DoubleInit, PCT => Some(InvariantViolated);
        // Loom: the fast path's read of the connection is not ordered after its write, reported
        // as "Causality violation: Concurrent read and write accesses" (a panic).
        relaxed_publication_caught_by_loom: Singleton, singleton(), SingletonVariant::RelaxedPublication, LOOM => Some(Panicked);
        // Shuttle cannot catch it: its atomics are all SeqCst (`**` in the table at the top).
        relaxed_publication_escapes_random: Singleton, singleton(), SingletonVariant::RelaxedPublication, RANDOM => None;
        relaxed_publication_escapes_pct: Singleton, singleton(), SingletonVariant::RelaxedPublication, PCT => None;
        double_checked_singleton_passes_loom: Singleton, singleton(), SingletonVariant::DoubleChecked, LOOM => None;
        double_checked_singleton_passes_random: Singleton, singleton(), SingletonVariant::DoubleChecked, RANDOM => None;
        double_checked_singleton_passes_pct: Singleton, singleton(), SingletonVariant::DoubleChecked, PCT => None;

        increment_outside_lock_caught_by_loom: Counter, counter(), CounterVariant::IncrementOutsideLock, LOOM => Some(InvariantViolated);
        increment_outside_lock_caught_by_random: Counter, counter(), CounterVariant::IncrementOutsideLock, RANDOM => Some(InvariantViolated);
        increment_outside_lock_caught_by_pct: Counter, counter(), CounterVariant::IncrementOutsideLock, PCT => Some(InvariantViolated);
        locked_counter_passes_loom: Counter, counter(), CounterVariant::Locked, LOOM => None;
        locked_counter_passes_random: Counter, counter(), CounterVariant::Locked, RANDOM => None;
        locked_counter_passes_pct: Counter, counter(), CounterVariant::Locked, PCT => None;
    }
}
