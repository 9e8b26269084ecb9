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

/// Schedules per test. Knob: `THREADPROOF_SHUTTLE_ITERATIONS` (default 500). The cost is linear
/// in it: at 500 every test takes under a second on 2 cores (debug profile). The nightly CI
/// job's 200,000 in release mode takes 2-13 s per appends/turns test and ~100 s for a test that
/// loops over 6 explorations; a 4-way shard of the suite took ~110 s on 2 cores.
fn iterations() -> usize {
    match std::env::var("THREADPROOF_SHUTTLE_ITERATIONS") {
        Ok(value) => value
            .parse()
            .expect("THREADPROOF_SHUTTLE_ITERATIONS is a number of schedules"),
        Err(_) => 500,
    }
}

/// PCT's bug depth: deep enough for the mutants' bugs, which need two or three ordering
/// constraints.
const DEPTH: usize = 3;

fn assert_sampled<O>(name: &str, report: &Report<O>) {
    common::show(name, report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Sampled);
    assert_eq!(report.executions, iterations() as u64);
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
    appends(4, ShuttleConfig::random(iterations()));
}

#[test]
fn appends_seed_pct() {
    appends(4, ShuttleConfig::pct(DEPTH, iterations()));
}

/// One test per thread count and schedule kind, not a loop over them, so that
/// `cargo nextest run --partition count:i/N` spreads them over shards evenly.
/// `$name: $threads, $shuttle;` runs `appends` with `$threads` threads under `$shuttle`.
macro_rules! appends_tests {
    ($($name:ident: $threads:expr, $shuttle:expr;)*) => {$(
        #[test]
        fn $name() {
            appends($threads, $shuttle);
        }
    )*};
}

// PCT starts at two threads: shuttle's PCT rejects a body without concurrency.
appends_tests! {
    appends_k1_random: 1, ShuttleConfig::random(iterations());
    appends_k2_random: 2, ShuttleConfig::random(iterations());
    appends_k3_random: 3, ShuttleConfig::random(iterations());
    appends_k5_random: 5, ShuttleConfig::random(iterations());
    appends_k6_random: 6, ShuttleConfig::random(iterations());
    appends_k7_random: 7, ShuttleConfig::random(iterations());
    appends_k8_random: 8, ShuttleConfig::random(iterations());
    appends_k2_pct: 2, ShuttleConfig::pct(DEPTH, iterations());
    appends_k3_pct: 3, ShuttleConfig::pct(DEPTH, iterations());
    appends_k5_pct: 5, ShuttleConfig::pct(DEPTH, iterations());
    appends_k6_pct: 6, ShuttleConfig::pct(DEPTH, iterations());
    appends_k7_pct: 7, ShuttleConfig::pct(DEPTH, iterations());
    appends_k8_pct: 8, ShuttleConfig::pct(DEPTH, iterations());
}

#[test]
fn turns_seed_random() {
    turns(
        Turns::seed_config(),
        TurnsVariant::Targeted,
        ShuttleConfig::random(iterations()),
    );
}

#[test]
fn turns_seed_pct() {
    turns(
        Turns::seed_config(),
        TurnsVariant::Targeted,
        ShuttleConfig::pct(DEPTH, iterations()),
    );
}

#[test]
fn turns_seed_notify_all_random() {
    turns(
        Turns::seed_config(),
        TurnsVariant::NotifyAll,
        ShuttleConfig::random(iterations()),
    );
}

#[test]
fn turns_seed_notify_all_pct() {
    turns(
        Turns::seed_config(),
        TurnsVariant::NotifyAll,
        ShuttleConfig::pct(DEPTH, iterations()),
    );
}

/// `$name: $threads, $shuttle;` runs targeted `turns` with `$threads` threads and
/// 2 * `$threads` + 1 turns under `$shuttle`; one test each, as for `appends_tests!`.
macro_rules! turns_tests {
    ($($name:ident: $threads:expr, $shuttle:expr;)*) => {$(
        #[test]
        fn $name() {
            let config = TurnsConfig::new($threads, 2 * $threads + 1).unwrap();
            turns(config, TurnsVariant::Targeted, $shuttle);
        }
    )*};
}

turns_tests! {
    turns_k1_random: 1, ShuttleConfig::random(iterations());
    turns_k2_random: 2, ShuttleConfig::random(iterations());
    turns_k4_random: 4, ShuttleConfig::random(iterations());
    turns_k5_random: 5, ShuttleConfig::random(iterations());
    turns_k6_random: 6, ShuttleConfig::random(iterations());
    turns_k7_random: 7, ShuttleConfig::random(iterations());
    turns_k8_random: 8, ShuttleConfig::random(iterations());
    turns_k2_pct: 2, ShuttleConfig::pct(DEPTH, iterations());
    turns_k4_pct: 4, ShuttleConfig::pct(DEPTH, iterations());
    turns_k5_pct: 5, ShuttleConfig::pct(DEPTH, iterations());
    turns_k6_pct: 6, ShuttleConfig::pct(DEPTH, iterations());
    turns_k7_pct: 7, ShuttleConfig::pct(DEPTH, iterations());
    turns_k8_pct: 8, ShuttleConfig::pct(DEPTH, iterations());
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

/// The process scenarios over simulated processes, at the seed's sizes (3 workers, 4 tasks),
/// beyond loom's thread limit: with and without a worker killed mid-task, and the manager with
/// 3 clients and a lost answer.
mod processes {
    use super::{assert_sampled, iterations, DEPTH};
    use threadproof::explore::ShuttleConfig;
    use threadproof::process::Death;
    use threadproof::scenarios::check_shuttle;
    use threadproof::scenarios::isolation::{Isolation, IsolationConfig, IsolationVariant};
    use threadproof::scenarios::manager::{ManagerConfig, ManagerScenario, ManagerScenarioVariant};
    use threadproof::scenarios::process_pool::{
        ProcessPoolConfig, ProcessPoolScenario, ProcessPoolVariant,
    };

    #[test]
    fn process_pool_seed_with_each_crash_random_and_pct() {
        for crash in [None, Some((0, Death::Kill)), Some((3, Death::Abort))] {
            for shuttle in [
                ShuttleConfig::random(iterations()),
                ShuttleConfig::pct(DEPTH, iterations()),
            ] {
                let mut config = ProcessPoolConfig::seed();
                if let Some((i, death)) = crash {
                    config = config.with_crash(i, death).unwrap();
                }
                let report = check_shuttle::<ProcessPoolScenario>(
                    &config,
                    ProcessPoolVariant::FailsTheTask,
                    &shuttle,
                );
                assert_sampled(&format!("process_pool seed crash={crash:?}"), &report);
                assert!(report.outcomes.len() > 1, "{}", report.summary());
            }
        }
    }

    #[test]
    fn isolation_seed_random_and_pct() {
        for shuttle in [
            ShuttleConfig::random(iterations()),
            ShuttleConfig::pct(DEPTH, iterations()),
        ] {
            let report = check_shuttle::<Isolation>(
                &IsolationConfig::seed(),
                IsolationVariant::Processes,
                &shuttle,
            );
            assert_sampled("isolation seed", &report);
            assert_eq!(report.outcomes.len(), 1);
        }
    }

    #[test]
    fn manager_seed_with_a_lost_answer_random_and_pct() {
        for lose in [None, Some(0), Some(3)] {
            for shuttle in [
                ShuttleConfig::random(iterations()),
                ShuttleConfig::pct(DEPTH, iterations()),
            ] {
                let mut config = ManagerConfig::seed();
                if let Some(i) = lose {
                    config = config.losing_answer(i).unwrap();
                }
                let report = check_shuttle::<ManagerScenario>(
                    &config,
                    ManagerScenarioVariant::AppliesOnce,
                    &shuttle,
                );
                assert_sampled(&format!("manager seed lose={lose:?}"), &report);
                assert!(report.outcomes.len() > 1, "{}", report.summary());
            }
        }
    }
}

/// The thread pool, the singleton and the counter, at the breadth loom cannot reach: the pool
/// up to 16 workers and 200 tasks, with spurious wakeups on (1 wait in 4); the singleton and the
/// counter up to 8 threads. One test per size and schedule kind, for `--partition`.
mod executors {
    use super::{assert_sampled, common, iterations, DEPTH};
    use threadproof::explore::{Coverage, ShuttleConfig};
    use threadproof::scenarios::check_shuttle;
    use threadproof::scenarios::counter::{Counter, CounterConfig, CounterVariant};
    use threadproof::scenarios::pool::{Pool, PoolConfig, PoolVariant};
    use threadproof::scenarios::singleton::{Singleton, SingletonConfig, SingletonVariant};

    /// The pool's schedules at a size: the suite's count up to 16 tasks, then fewer as a run
    /// grows (16 workers and 200 tasks is ~4k scheduling steps, ~15 ms in a debug build).
    fn pool_iterations(tasks: usize) -> usize {
        match tasks {
            0..=16 => iterations(),
            17..=50 => iterations().div_ceil(2).max(1),
            _ => iterations().div_ceil(5).max(1),
        }
    }

    /// Runs of the pool with `workers` workers and `tasks` tasks, spurious wakeups on: every
    /// run valid (each task once in the list, each future once from `as_completed`), and with
    /// several workers and tasks, more than one outcome reached.
    fn pool(workers: usize, tasks: usize, shuttle: ShuttleConfig) {
        let config = PoolConfig::new(workers, tasks).unwrap();
        let planned = shuttle.iterations as u64;
        let shuttle = shuttle.spurious_one_in(4);
        let report = check_shuttle::<Pool>(&config, PoolVariant::Correct, &shuttle);
        common::show(&format!("pool w={workers} t={tasks}"), &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Sampled);
        assert_eq!(report.executions, planned);
        if workers > 1 && tasks > 1 && planned > 1 {
            assert!(
                report.outcomes.len() > 1,
                "one outcome only: {}",
                report.summary()
            );
        }
    }

    /// `$name: $workers, $tasks;` runs the pool under random schedules (`random`) or PCT
    /// (`pct`).
    macro_rules! pool_tests {
        ($schedules:ident: $($name:ident: $workers:expr, $tasks:expr;)*) => {$(
            #[test]
            fn $name() {
                pool($workers, $tasks, pool_tests!(@$schedules $tasks));
            }
        )*};
        (@random $tasks:expr) => { ShuttleConfig::random(pool_iterations($tasks)) };
        (@pct $tasks:expr) => { ShuttleConfig::pct(DEPTH, pool_iterations($tasks)) };
    }

    pool_tests! { random:
        pool_seed_random: 3, 4;
        pool_w1_t4_random: 1, 4;
        pool_w2_t2_random: 2, 2;
        pool_w4_t16_random: 4, 16;
        pool_w4_t50_random: 4, 50;
        pool_w8_t100_random: 8, 100;
        pool_w16_t16_random: 16, 16;
        pool_w16_t200_random: 16, 200;
        // No tasks: the pool starts, is dropped, and every worker leaves.
        pool_w1_t0_random: 1, 0;
        pool_w16_t0_random: 16, 0;
    }

    pool_tests! { pct:
        pool_seed_pct: 3, 4;
        pool_w1_t4_pct: 1, 4;
        pool_w2_t2_pct: 2, 2;
        pool_w4_t16_pct: 4, 16;
        pool_w4_t50_pct: 4, 50;
        pool_w8_t100_pct: 8, 100;
        pool_w16_t16_pct: 16, 16;
        pool_w16_t200_pct: 16, 200;
    }

    /// k threads racing on the first `get_connection`: one creation, one line, k times.
    fn singleton(threads: usize, shuttle: ShuttleConfig) {
        let config = SingletonConfig::new(threads).unwrap().with_r(4).unwrap();
        let report = check_shuttle::<Singleton>(&config, SingletonVariant::DoubleChecked, &shuttle);
        assert_sampled(&format!("singleton k={threads}"), &report);
        assert_eq!(report.outcomes.len(), 1);
    }

    /// k named threads: numbers 0..k-1 in print order, each thread once; with k > 1 the
    /// assignment of numbers to threads varies.
    fn counter(threads: usize, shuttle: ShuttleConfig) {
        let config = CounterConfig::new(threads).unwrap();
        let report = check_shuttle::<Counter>(&config, CounterVariant::Locked, &shuttle);
        assert_sampled(&format!("counter k={threads}"), &report);
        if threads > 1 {
            assert!(
                report.outcomes.len() > 1,
                "one outcome only: {}",
                report.summary()
            );
        }
    }

    /// `$name: $threads, $shuttle;` runs `$scenario` (singleton or counter) at that size.
    macro_rules! thread_tests {
        ($scenario:ident: $($name:ident: $threads:expr, $shuttle:expr;)*) => {$(
            #[test]
            fn $name() {
                $scenario($threads, $shuttle);
            }
        )*};
    }

    // PCT starts at two threads: shuttle's PCT rejects a body without concurrency.
    thread_tests! { singleton:
        singleton_k1_random: 1, ShuttleConfig::random(iterations());
        singleton_k3_random: 3, ShuttleConfig::random(iterations());
        singleton_k5_random: 5, ShuttleConfig::random(iterations());
        singleton_k8_random: 8, ShuttleConfig::random(iterations());
        singleton_k2_pct: 2, ShuttleConfig::pct(DEPTH, iterations());
        singleton_k3_pct: 3, ShuttleConfig::pct(DEPTH, iterations());
        singleton_k5_pct: 5, ShuttleConfig::pct(DEPTH, iterations());
        singleton_k8_pct: 8, ShuttleConfig::pct(DEPTH, iterations());
    }

    thread_tests! { counter:
        counter_k1_random: 1, ShuttleConfig::random(iterations());
        counter_k3_random: 3, ShuttleConfig::random(iterations());
        counter_k5_random: 5, ShuttleConfig::random(iterations());
        counter_k8_random: 8, ShuttleConfig::random(iterations());
        counter_k2_pct: 2, ShuttleConfig::pct(DEPTH, iterations());
        counter_k3_pct: 3, ShuttleConfig::pct(DEPTH, iterations());
        counter_k5_pct: 5, ShuttleConfig::pct(DEPTH, iterations());
        counter_k8_pct: 8, ShuttleConfig::pct(DEPTH, iterations());
    }
}
