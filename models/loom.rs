//! The deep loom suite: exhaustive proofs at the Python notes' sizes.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test --release --test loom -- --nocapture`; each
//! model prints its executions, distinct outcomes and time. Spurious wakeups are off here
//! (they multiply the state space by the number of waits, see design.md): `if-not-while` is
//! the mutant that needs them, and the kill matrix (`--test mutants`) explores them.
#![cfg(loom)]

#[path = "../tests/common/mod.rs"]
mod common;

use threadproof::explore::{Coverage, LoomConfig};
use threadproof::scenarios::appends::{Appends, AppendsConfig, AppendsVariant};
use threadproof::scenarios::turns::{Turns, TurnsConfig, TurnsVariant};
use threadproof::scenarios::{check_loom, Scenario};

/// Appends with the seed's 4 threads (loom's maximum with main), every interleaving: all 4! =
/// 24 orders of the list are reachable, and no other.
#[test]
fn appends_seed_exhaustive_reaches_all_24_orders() {
    let config = AppendsConfig::seed();
    let report = check_loom::<Appends>(&config, AppendsVariant::Locked, &LoomConfig::exhaustive());
    common::show("appends k=4 exhaustive", &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    assert_eq!(report.outcomes.len(), 24);
    let orders: Vec<String> = report.outcomes.keys().map(Appends::render).collect();
    let _snapshots = common::snapshots();
    insta::assert_snapshot!("appends_loom_outcomes", orders.join("\n"));
}

/// Turns at k=3, n=6, every interleaving: only the strict rotation is reachable.
#[test]
fn turns_k3_n6_exhaustive() {
    let config = TurnsConfig::new(3, 6).unwrap();
    let report = check_loom::<Turns>(&config, TurnsVariant::Targeted, &LoomConfig::exhaustive());
    common::show("turns k=3 n=6 exhaustive", &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    assert_eq!(report.outcomes.len(), 1);
}

/// Preemption bound of [`turns_seed_preemption_bound_3`]. Knob: `THREADPROOF_LOOM_PREEMPTIONS`
/// (default 3; loom's own `LOOM_MAX_PREEMPTIONS` is not read, since the harness sets bounds
/// explicitly). The cost grows ~5x per step, measured on a shared 2-core machine (release):
/// bound 3: 8.8k executions, 1 s; 4: 58k, 6 s; 5: 294k, 38 s; 6 (the nightly job's):
/// 1.17M, 225 s; 7 would be ~5M executions, ~15 min.
fn seed_preemptions() -> usize {
    match std::env::var("THREADPROOF_LOOM_PREEMPTIONS") {
        Ok(value) => value
            .parse()
            .expect("THREADPROOF_LOOM_PREEMPTIONS is a number of preemptions"),
        Err(_) => 3,
    }
}

/// Turns at the seed's k=3, n=15, every interleaving with at most 3 preemptions (more with
/// `THREADPROOF_LOOM_PREEMPTIONS`, see [`seed_preemptions`]).
#[test]
fn turns_seed_preemption_bound_3() {
    let config = Turns::seed_config();
    let bound = seed_preemptions();
    let report = check_loom::<Turns>(
        &config,
        TurnsVariant::Targeted,
        &LoomConfig::exhaustive().preemption_bound(bound),
    );
    common::show(&format!("turns k=3 n=15 preemption bound {bound}"), &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    assert_eq!(report.outcomes.len(), 1);
}

/// The process scenarios over simulated processes at preemption bound 2 (bound 1 runs in
/// `loom_quick`): 2 workers and 2 tasks with each crash choice, 3 isolated processes, and the
/// manager with 2 clients and each lost-answer choice.
mod processes {
    use super::common;
    use threadproof::explore::{Coverage, LoomConfig};
    use threadproof::process::Death;
    use threadproof::scenarios::check_loom;
    use threadproof::scenarios::isolation::{Isolation, IsolationConfig, IsolationVariant};
    use threadproof::scenarios::manager::{ManagerConfig, ManagerScenario, ManagerScenarioVariant};
    use threadproof::scenarios::process_pool::{
        ProcessPoolConfig, ProcessPoolScenario, ProcessPoolVariant,
    };

    fn bound_2() -> LoomConfig {
        LoomConfig::exhaustive().preemption_bound(2)
    }

    /// 2 workers, 2 tasks, `crash`: whose worker is killed mid-task. One test per crash choice
    /// (~33k executions without a crash, ~110k with one: about 45 s each in release on a busy
    /// 2-core machine).
    fn process_pool_w2_t2(crash: Option<usize>) {
        let mut config = ProcessPoolConfig::new(2, 2).unwrap();
        if let Some(i) = crash {
            config = config.with_crash(i, Death::Kill).unwrap();
        }
        let report = check_loom::<ProcessPoolScenario>(
            &config,
            ProcessPoolVariant::FailsTheTask,
            &bound_2(),
        );
        common::show(&format!("process_pool w=2 t=2 crash={crash:?}"), &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        assert_eq!(report.outcomes.len(), 2);
    }

    #[test]
    fn process_pool_w2_t2_no_crash_bound_2() {
        process_pool_w2_t2(None);
    }

    #[test]
    fn process_pool_w2_t2_task_0_killed_bound_2() {
        process_pool_w2_t2(Some(0));
    }

    #[test]
    fn process_pool_w2_t2_task_1_killed_bound_2() {
        process_pool_w2_t2(Some(1));
    }

    #[test]
    fn isolation_three_processes_bound_2() {
        let config = IsolationConfig::with_processes(3).unwrap();
        let report = check_loom::<Isolation>(&config, IsolationVariant::Processes, &bound_2());
        common::show("isolation k=3", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        assert_eq!(report.outcomes.len(), 1);
    }

    #[test]
    fn manager_2_clients_2_appends_every_lost_answer_bound_2() {
        for lose in [None, Some(0), Some(1)] {
            let mut config = ManagerConfig::new(2, 2).unwrap();
            if let Some(i) = lose {
                config = config.losing_answer(i).unwrap();
            }
            let report = check_loom::<ManagerScenario>(
                &config,
                ManagerScenarioVariant::AppliesOnce,
                &bound_2(),
            );
            common::show(&format!("manager c=2 appends=2 lose={lose:?}"), &report);
            assert!(report.passed(), "{}", report.summary());
            assert_eq!(report.coverage, Coverage::Exhaustive);
            assert_eq!(report.outcomes.len(), 2);
        }
    }
}

/// The thread pool, the lazy value (singleton) and the counter at the sizes of issue 3. Each
/// proof is followed by its mutants at the same size and bound, each caught: a model that passes
/// the correct variant is shown able to fail.
mod executors {
    use super::common;
    use threadproof::explore::{Coverage, FailureKind, LoomConfig, Report};
    use threadproof::scenarios::counter::{Counter, CounterConfig, CounterVariant};
    use threadproof::scenarios::pool::{Pool, PoolConfig, PoolVariant};
    use threadproof::scenarios::singleton::{Singleton, SingletonConfig, SingletonVariant};
    use threadproof::scenarios::{check_loom, Scenario, Variant};

    /// Runs every mutant of `S` at `config` under `loom` and asserts each fails as `expected` says.
    fn mutants_caught<S: Scenario>(
        config: &S::Config,
        loom: &LoomConfig,
        expected: &[(S::Variant, FailureKind)],
    ) {
        for &(variant, kind) in expected {
            assert!(variant.is_mutant());
            let report: Report<S::Outcome> = check_loom::<S>(config, variant, loom);
            common::show(&format!("{} {} (mutant)", S::NAME, variant.name()), &report);
            assert_eq!(report.failure_kind(), Some(kind), "{}", report.summary());
        }
        let mutants = S::Variant::ALL.iter().filter(|v| v.is_mutant()).count();
        assert_eq!(
            expected.len(),
            mutants,
            "every mutant of {} is run",
            S::NAME
        );
    }

    /// The pool at the seed's size, 3 workers and 4 tasks, every interleaving with at most 2
    /// preemptions (~93k executions, ~15 s in release on 2 cores). Why 2: bound 1 is ~650
    /// executions, bound 3 passed 740k executions in 2 minutes without finishing, so 2 is the
    /// deepest bound that fits the minute; and every pool mutant is caught within it (below).
    /// Spurious wakeups are off here; `models/loom_quick.rs` proves the seed size at bound 1 and
    /// smaller sizes at bound 2 and unbounded with them on.
    #[test]
    fn pool_seed_preemption_bound_2() {
        let loom = LoomConfig::exhaustive().preemption_bound(2);
        let report = check_loom::<Pool>(&PoolConfig::seed(), PoolVariant::Correct, &loom);
        common::show("pool w=3 t=4 preemption bound 2", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        assert!(report.outcomes.len() > 24, "{}", report.summary());
        mutants_caught::<Pool>(
            &PoolConfig::seed(),
            &loom,
            &[
                (PoolVariant::MissedWakeup, FailureKind::Deadlock),
                (PoolVariant::LostCompletion, FailureKind::Deadlock),
                (PoolVariant::DoubleCompletion, FailureKind::Panicked),
            ],
        );
    }

    /// One worker, three tasks, every interleaving without a bound (~57k executions): the worker
    /// loop, completion and `as_completed` racing the main thread's submissions in every order.
    #[test]
    fn pool_one_worker_three_tasks_exhaustive() {
        let config = PoolConfig::new(1, 3).unwrap();
        let loom = LoomConfig::exhaustive();
        let report = check_loom::<Pool>(&config, PoolVariant::Correct, &loom);
        common::show("pool w=1 t=3 exhaustive", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        mutants_caught::<Pool>(
            &config,
            &loom,
            &[
                (PoolVariant::MissedWakeup, FailureKind::Deadlock),
                (PoolVariant::LostCompletion, FailureKind::Deadlock),
                (PoolVariant::DoubleCompletion, FailureKind::Panicked),
            ],
        );
    }

    /// Two workers racing for two tasks, every interleaving with at most 3 preemptions.
    #[test]
    fn pool_two_workers_two_tasks_bound_3() {
        let config = PoolConfig::new(2, 2).unwrap();
        let loom = LoomConfig::exhaustive().preemption_bound(3);
        let report = check_loom::<Pool>(&config, PoolVariant::Correct, &loom);
        common::show("pool w=2 t=2 preemption bound 3", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        assert_eq!(report.outcomes.len(), 4);
    }

    /// Three threads racing on the first `get_connection`, every interleaving (~2.5k executions):
    /// one creation, every thread the same line. (Four threads is ~1.2M executions, ~3 minutes.)
    #[test]
    fn singleton_three_threads_exhaustive() {
        let config = SingletonConfig::new(3).unwrap().with_r(4).unwrap();
        let loom = LoomConfig::exhaustive();
        let report = check_loom::<Singleton>(&config, SingletonVariant::DoubleChecked, &loom);
        common::show("singleton k=3 exhaustive", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        assert_eq!(report.outcomes.len(), 1);
        let outcome = report.outcomes.keys().next().unwrap();
        let _snapshots = common::snapshots();
        insta::assert_snapshot!("singleton_k3_loom_outcome", Singleton::render(outcome));
        mutants_caught::<Singleton>(
            &config,
            &loom,
            &[
                (SingletonVariant::DoubleInit, FailureKind::InvariantViolated),
                // A causality violation: the value read on the fast path after a Relaxed load.
                (SingletonVariant::RelaxedPublication, FailureKind::Panicked),
            ],
        );
    }

    /// The seed's three named threads, every interleaving (~900 executions): numbers 0, 1, 2 in
    /// print order, all 3! assignments of numbers to threads reachable. (Four threads is ~230k
    /// executions: the atomic counter's loads and stores are branch points of their own.)
    #[test]
    fn counter_three_threads_exhaustive() {
        let config = CounterConfig::new(3).unwrap();
        let loom = LoomConfig::exhaustive();
        let report = check_loom::<Counter>(&config, CounterVariant::Locked, &loom);
        common::show("counter k=3 exhaustive", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        let outcomes: Vec<String> = report.outcomes.keys().map(Counter::render).collect();
        assert_eq!(outcomes.len(), 6);
        let _snapshots = common::snapshots();
        insta::assert_snapshot!("counter_k3_loom_outcomes", outcomes.join("\n"));
        mutants_caught::<Counter>(
            &config,
            &loom,
            &[(
                CounterVariant::IncrementOutsideLock,
                FailureKind::InvariantViolated,
            )],
        );
    }
}
