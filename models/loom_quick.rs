//! Small loom models that run in plain `cargo test`: the same proofs as the deep suite
//! (`models/loom.rs`) at sizes that take seconds in a debug build, and one with spurious
//! wakeups explored.

#[path = "../tests/common/mod.rs"]
mod common;

use threadproof::explore::{Coverage, LoomConfig};
use threadproof::process::World;
use threadproof::scenarios::appends::{Appends, AppendsConfig, AppendsVariant};
use threadproof::scenarios::turns::{Turns, TurnsConfig, TurnsVariant};
use threadproof::scenarios::{check_loom, Scenario};

/// Three appending threads: all 3! = 6 orders are reachable, and no other.
#[test]
fn appends_three_threads_reach_all_6_orders() {
    let config = AppendsConfig::with_threads(3).unwrap();
    let report = check_loom::<Appends>(&config, AppendsVariant::Locked, &LoomConfig::exhaustive());
    common::show("appends k=3 exhaustive", &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    let orders: Vec<String> = report.outcomes.keys().map(Appends::render).collect();
    assert_eq!(orders.len(), 6);
    let _snapshots = common::snapshots();
    insta::assert_snapshot!("appends_k3_loom_outcomes", orders.join("\n"));
}

/// Two threads taking turns to 4, every interleaving, with up to one spurious wakeup anywhere.
#[test]
fn turns_k2_n4_exhaustive_with_spurious_wakeups() {
    let config = TurnsConfig::new(2, 4).unwrap();
    let loom = LoomConfig::exhaustive().spurious_wakeups(1);
    let report = check_loom::<Turns>(&config, TurnsVariant::Targeted, &loom);
    common::show("turns k=2 n=4 spurious<=1", &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    assert_eq!(report.outcomes.len(), 1);
    let lines = report.outcomes.keys().next().unwrap();
    let _snapshots = common::snapshots();
    insta::assert_snapshot!("turns_k2_n4_loom_outcome", Turns::render(lines));
}

/// The seed's notify_all version at a small size: correct, reaching only the rotation.
#[test]
fn turns_notify_all_k2_n3_exhaustive() {
    let config = TurnsConfig::new(2, 3).unwrap();
    let report = check_loom::<Turns>(&config, TurnsVariant::NotifyAll, &LoomConfig::exhaustive());
    common::show("turns notify-all k=2 n=3", &report);
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.coverage, Coverage::Exhaustive);
    assert_eq!(report.outcomes.len(), 1);
}

/// A one-thread rotation never waits: one execution, the numbers in order.
#[test]
fn turns_single_thread_is_one_execution() {
    let config = TurnsConfig::new(1, 5).unwrap();
    let report = check_loom::<Turns>(&config, TurnsVariant::Targeted, &LoomConfig::exhaustive());
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.executions, 1);
    let lines = report.outcomes.keys().next().unwrap();
    assert_eq!(
        Turns::render(lines),
        Turns::render(
            &Turns::run::<threadproof::sync::Std>(&config, TurnsVariant::Targeted, World::Os)
                .unwrap()
        )
    );
}

/// The process scenarios over simulated processes (threads that share nothing but channels):
/// the dispatcher's crash handling, isolation, and the manager's request loop. Preemption
/// bound 1 keeps them to about a second in a debug build; the deep suite (`models/loom.rs`)
/// runs them at bound 2.
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

    fn bounded() -> LoomConfig {
        LoomConfig::exhaustive().preemption_bound(1)
    }

    /// 2 workers, 2 tasks, for each crash choice: nobody dies, or the worker of task 0 or of
    /// task 1 is killed mid-task. Threads: main, dispatcher, 2 workers and a replacement
    /// (loom's 5).
    #[test]
    fn process_pool_w2_t2_every_crash_choice() {
        for crash in [None, Some(0), Some(1)] {
            let mut config = ProcessPoolConfig::new(2, 2).unwrap();
            if let Some(i) = crash {
                config = config.with_crash(i, Death::Kill).unwrap();
            }
            let report = check_loom::<ProcessPoolScenario>(
                &config,
                ProcessPoolVariant::FailsTheTask,
                &bounded(),
            );
            common::show(&format!("process_pool w=2 t=2 crash={crash:?}"), &report);
            assert!(report.passed(), "{}", report.summary());
            assert_eq!(report.coverage, Coverage::Exhaustive);
            // Both completion orders are reachable.
            assert_eq!(report.outcomes.len(), 2, "{:?}", report.outcomes.keys());
        }
    }

    /// Three isolated processes: each child's copy holds only its own result, the parent's
    /// stays empty, in every interleaving within the bound.
    #[test]
    fn isolation_three_processes() {
        let config = IsolationConfig::with_processes(3).unwrap();
        let report = check_loom::<Isolation>(&config, IsolationVariant::Processes, &bounded());
        common::show("isolation k=3", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        assert_eq!(report.outcomes.len(), 1);
    }

    /// Two clients, three appends, for each choice of a lost answer (none, or each append's):
    /// every append is in the list exactly once.
    #[test]
    fn manager_2_clients_3_appends_every_lost_answer() {
        for lose in [None, Some(0), Some(1), Some(2)] {
            let mut config = ManagerConfig::new(2, 3).unwrap();
            if let Some(i) = lose {
                config = config.losing_answer(i).unwrap();
            }
            let report = check_loom::<ManagerScenario>(
                &config,
                ManagerScenarioVariant::AppliesOnce,
                &bounded(),
            );
            common::show(&format!("manager c=2 appends=3 lose={lose:?}"), &report);
            assert!(report.passed(), "{}", report.summary());
            assert_eq!(report.coverage, Coverage::Exhaustive);
            // Clients interleave: more than one list order is reachable.
            assert!(report.outcomes.len() > 1, "{:?}", report.outcomes.keys());
        }
    }
}

/// The thread pool, the lazy value (singleton) and the counter. Each model below has mutants
/// that the kill matrix (`models/mutants.rs`) shows caught at the same or a smaller size: pool
/// (missed-wakeup, lost-completion, double-completion), singleton (double-init,
/// relaxed-publication), counter (increment-outside-lock).
mod executors {
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::atomic::Ordering::Relaxed;
    use std::sync::Arc;

    use super::common;
    use threadproof::explore::{self, Coverage, LoomConfig};
    use threadproof::lazy::OnceValue;
    use threadproof::scenarios::counter::{Counter, CounterConfig, CounterVariant};
    use threadproof::scenarios::pool::{Pool, PoolConfig, PoolVariant};
    use threadproof::scenarios::singleton::{Singleton, SingletonConfig, SingletonVariant};
    use threadproof::scenarios::{check_loom, Scenario};
    use threadproof::sync::{spawn, AtomicUsize, Loom};
    use threadproof::thread_pool::{as_completed, ShutDown, TaskError, ThreadPool};

    /// One worker, two tasks, every interleaving with up to one spurious wakeup anywhere. With one
    /// worker the list is always in submission order; `as_completed` yields a future that was done
    /// before it looked first, so both result orders are reachable.
    #[test]
    fn pool_one_worker_two_tasks_exhaustive_with_spurious_wakeups() {
        let config = PoolConfig::new(1, 2).unwrap();
        let loom = LoomConfig::exhaustive().spurious_wakeups(1);
        let report = check_loom::<Pool>(&config, PoolVariant::Correct, &loom);
        common::show("pool w=1 t=2 spurious<=1", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        let outcomes: Vec<String> = report.outcomes.keys().map(Pool::render).collect();
        assert_eq!(outcomes.len(), 2);
        let _snapshots = common::snapshots();
        insta::assert_snapshot!("pool_w1_t2_loom_outcomes", outcomes.join("\n"));
    }

    /// Two workers racing for two tasks, every interleaving with at most 2 preemptions and one
    /// spurious wakeup: each task runs once, whichever worker takes it.
    #[test]
    fn pool_two_workers_two_tasks_bound_2_with_spurious_wakeups() {
        let config = PoolConfig::new(2, 2).unwrap();
        let loom = LoomConfig::exhaustive()
            .preemption_bound(2)
            .spurious_wakeups(1);
        let report = check_loom::<Pool>(&config, PoolVariant::Correct, &loom);
        common::show("pool w=2 t=2 bound 2 spurious<=1", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        // Both result orders and both list orders.
        assert_eq!(report.outcomes.len(), 4);
    }

    /// The seed's 3 workers and 4 tasks with at most one preemption, one spurious wakeup.
    #[test]
    fn pool_seed_bound_1_with_spurious_wakeups() {
        let loom = LoomConfig::exhaustive()
            .preemption_bound(1)
            .spurious_wakeups(1);
        let report = check_loom::<Pool>(&PoolConfig::seed(), PoolVariant::Correct, &loom);
        common::show("pool seed bound 1 spurious<=1", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        assert!(report.outcomes.len() > 1, "{}", report.summary());
    }

    /// The pool's API under loom, two workers, every interleaving within 2 preemptions: a
    /// panicking task fails its own future with the panic's message, the pool goes on to run the
    /// next task, `map` keeps input order, and after shutdown `submit` is refused.
    #[test]
    fn pool_api_survives_a_panicking_task() {
        type Seen = (Result<u32, TaskError>, Vec<Result<u32, TaskError>>, bool);
        let loom = LoomConfig::exhaustive().preemption_bound(2);
        let report = explore::loom::explore(
            &loom,
            || -> Seen {
                let pool = ThreadPool::<Loom>::new(2).unwrap();
                let bad = pool.submit(|| -> u32 { panic!("task failed") }).unwrap();
                let squares: Vec<_> = pool.map(|x: u32| x * x, [3, 4]).unwrap().collect();
                pool.shutdown();
                let refused = pool.submit(|| 0u32).err() == Some(ShutDown);
                (bad.result(), squares, refused)
            },
            |(bad, squares, refused): &Seen| {
                if *bad != Err(TaskError::Panicked("task failed".into())) {
                    return Err(format!("the panicking task gave {bad:?}"));
                }
                if *squares != [Ok(9), Ok(16)] {
                    return Err(format!("map gave {squares:?}"));
                }
                if !refused {
                    return Err("submit after shutdown was accepted".into());
                }
                Ok(())
            },
        );
        common::show("pool api w=2 bound 2", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        assert_eq!(report.outcomes.len(), 1);
    }

    /// `as_completed` over futures that all finished before it was called: each yielded once.
    #[test]
    fn as_completed_after_everything_finished() {
        let report = explore::loom::explore(
            &LoomConfig::exhaustive(),
            || {
                let pool = ThreadPool::<Loom>::new(1).unwrap();
                let futures: Vec<_> = (0..2u32).map(|i| pool.submit(move || i).unwrap()).collect();
                // Dropping the pool waits for both tasks.
                drop(pool);
                let mut seen: Vec<u32> =
                    as_completed(futures).map(|f| f.result().unwrap()).collect();
                seen.sort_unstable();
                seen
            },
            |seen: &Vec<u32>| match seen[..] {
                [0, 1] => Ok(()),
                _ => Err(format!("yielded {seen:?}")),
            },
        );
        common::show("as_completed after shutdown", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
    }

    /// Three threads racing on the first `get_connection`, every interleaving: one creation, one
    /// line, three times.
    #[test]
    fn singleton_three_threads_exhaustive() {
        let config = SingletonConfig::new(3).unwrap().with_r(4).unwrap();
        let report = check_loom::<Singleton>(
            &config,
            SingletonVariant::DoubleChecked,
            &LoomConfig::exhaustive(),
        );
        common::show("singleton k=3 exhaustive", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        assert_eq!(report.outcomes.len(), 1);
        let outcome = report.outcomes.keys().next().unwrap();
        assert_eq!(outcome.creations, 1);
        let _snapshots = common::snapshots();
        insta::assert_snapshot!("singleton_k3_loom_outcome", Singleton::render(outcome));
    }

    /// An initialiser that panics leaves the value uninitialised; the other thread's `get`
    /// initialises it. Every interleaving: exactly one thread sees the panic (whichever ran the
    /// first attempt), both attempts ran, and the value is the second attempt's.
    #[test]
    fn lazy_retries_after_a_panicking_initialiser() {
        type Seen = (Vec<Result<usize, String>>, usize, Option<usize>);
        let report = explore::loom::explore(
            &LoomConfig::exhaustive(),
            || -> Seen {
                let once = Arc::new(OnceValue::<Loom, usize>::new());
                let attempts = Arc::new(AtomicUsize::<Loom>::new(0));
                let threads: Vec<_> = (0..2)
                    .map(|i| {
                        let (once, attempts) = (Arc::clone(&once), Arc::clone(&attempts));
                        spawn::<Loom, _, _>(format!("getter-{i}"), move || {
                            panic::catch_unwind(AssertUnwindSafe(|| {
                                *once.get_or_init(|| match attempts.fetch_add(1, Relaxed) {
                                    0 => panic!("the first attempt fails"),
                                    n => n * 10,
                                })
                            }))
                            .map_err(|p| threadproof::sync::panic_message(&*p))
                        })
                        .unwrap()
                    })
                    .collect();
                let mut results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
                results.sort();
                (results, attempts.load(Relaxed), once.get().copied())
            },
            |seen: &Seen| {
                let expected: Seen = (
                    vec![Ok(10), Err("the first attempt fails".into())],
                    2,
                    Some(10),
                );
                if *seen == expected {
                    Ok(())
                } else {
                    Err(format!("{seen:?}"))
                }
            },
        );
        common::show("lazy retry after panic", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
    }

    /// The seed's three named threads, every interleaving: the numbers are always 0, 1, 2 in print
    /// order, and each of the 3! assignments of numbers to threads is reachable.
    #[test]
    fn counter_three_threads_reach_all_6_assignments() {
        let config = CounterConfig::new(3).unwrap();
        let report =
            check_loom::<Counter>(&config, CounterVariant::Locked, &LoomConfig::exhaustive());
        common::show("counter k=3 exhaustive", &report);
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Exhaustive);
        let outcomes: Vec<String> = report.outcomes.keys().map(Counter::render).collect();
        assert_eq!(outcomes.len(), 6);
        let _snapshots = common::snapshots();
        insta::assert_snapshot!("counter_k3_loom_outcomes", outcomes.join("\n"));
    }
}
