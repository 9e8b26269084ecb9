//! The shuttle suite: random and PCT schedules of every scenario at the Python notes'
//! parameters and with up to 8 threads, in plain `cargo test`.
//!
//! Shuttle cannot prove absence of bugs; these runs sample schedules (seeded, so reproducible)
//! at sizes loom cannot reach (loom stops at 4 threads besides main). Each test is small so
//! that `cargo nextest run --partition` spreads them evenly.

#[path = "../tests/common/mod.rs"]
mod common;

use threadproof::explore::{Coverage, Report, ShuttleConfig};
use threadproof::scenarios::appends::{Appends, AppendsConfig, AppendsVariant};
use threadproof::scenarios::turns::{Turns, TurnsConfig, TurnsVariant};
use threadproof::scenarios::{check_shuttle, Scenario};

const ITERATIONS: usize = 500;
/// PCT's bug depth: deep enough for the mutants' bugs, which need two or three ordering
/// constraints.
const DEPTH: usize = 3;

fn assert_sampled<O>(name: &str, report: &Report<O>) {
    common::show(name, report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Sampled);
    assert_eq!(report.executions, ITERATIONS as u64);
}

/// All runs of `appends` with k threads: each outcome is valid, and with k > 1 the schedules
/// really vary (more than one order reached).
fn appends(threads: usize, shuttle: ShuttleConfig) {
    let config = AppendsConfig::with_threads(threads).unwrap();
    let report = check_shuttle::<Appends>(&config, AppendsVariant::Locked, &shuttle);
    assert_sampled(&format!("appends k={threads}"), &report);
    if threads > 1 {
        assert!(
            report.outcomes.len() > 1,
            "one order only: {}",
            report.summary()
        );
    }
}

/// All runs of `turns`, with spurious wakeups on: the one rotation, whatever the schedule.
fn turns(config: TurnsConfig, variant: TurnsVariant, shuttle: ShuttleConfig) {
    let report = check_shuttle::<Turns>(&config, variant, &shuttle.spurious_one_in(4));
    assert_sampled(&format!("turns {variant:?} {config:?}"), &report);
    assert_eq!(report.outcomes.len(), 1);
}

#[test]
fn appends_seed_random() {
    appends(4, ShuttleConfig::random(ITERATIONS));
}

#[test]
fn appends_seed_pct() {
    appends(4, ShuttleConfig::pct(DEPTH, ITERATIONS));
}

#[test]
fn appends_up_to_8_threads_random() {
    for threads in [1, 2, 3, 5, 6, 7, 8] {
        appends(threads, ShuttleConfig::random(ITERATIONS));
    }
}

/// PCT starts at two threads: shuttle's PCT rejects a body without concurrency.
#[test]
fn appends_up_to_8_threads_pct() {
    for threads in [2, 3, 5, 6, 7, 8] {
        appends(threads, ShuttleConfig::pct(DEPTH, ITERATIONS));
    }
}

#[test]
fn turns_seed_random() {
    turns(
        Turns::seed_config(),
        TurnsVariant::Targeted,
        ShuttleConfig::random(ITERATIONS),
    );
}

#[test]
fn turns_seed_pct() {
    turns(
        Turns::seed_config(),
        TurnsVariant::Targeted,
        ShuttleConfig::pct(DEPTH, ITERATIONS),
    );
}

#[test]
fn turns_seed_notify_all_random() {
    turns(
        Turns::seed_config(),
        TurnsVariant::NotifyAll,
        ShuttleConfig::random(ITERATIONS),
    );
}

#[test]
fn turns_seed_notify_all_pct() {
    turns(
        Turns::seed_config(),
        TurnsVariant::NotifyAll,
        ShuttleConfig::pct(DEPTH, ITERATIONS),
    );
}

#[test]
fn turns_up_to_8_threads_random() {
    for threads in [1, 2, 4, 5, 6, 7, 8] {
        let config = TurnsConfig::new(threads, 2 * threads + 1).unwrap();
        turns(
            config,
            TurnsVariant::Targeted,
            ShuttleConfig::random(ITERATIONS),
        );
    }
}

#[test]
fn turns_up_to_8_threads_pct() {
    for threads in [2, 4, 5, 6, 7, 8] {
        let config = TurnsConfig::new(threads, 2 * threads + 1).unwrap();
        turns(
            config,
            TurnsVariant::Targeted,
            ShuttleConfig::pct(DEPTH, ITERATIONS),
        );
    }
}

/// The same seed explores the same schedules: two runs reach the same outcomes, counts and all.
#[test]
fn runs_are_reproducible() {
    let config = AppendsConfig::seed();
    let shuttle = ShuttleConfig::random(200).seed(42);
    let first = check_shuttle::<Appends>(&config, AppendsVariant::Locked, &shuttle);
    let second = check_shuttle::<Appends>(&config, AppendsVariant::Locked, &shuttle);
    assert_eq!(first.outcomes, second.outcomes);
    let other =
        check_shuttle::<Appends>(&config, AppendsVariant::Locked, &shuttle.clone().seed(43));
    assert_ne!(
        first.outcomes, other.outcomes,
        "a different seed should sample differently"
    );
}
