//! Properties of the pool, the lazy value and the counter over generated parameters, on both
//! production backends (`Std` and `ParkingLot`). Expected values are built independently of
//! the scenarios' own invariants.
//!
//! - pool: for 1..=8 workers and up to 40 tasks, some of them panicking (chosen at random),
//!   `map` returns each input's value in input order, and each panicking input's message as
//!   its error; `as_completed` yields every future exactly once (the multiset of results is
//!   the inputs'); the `pool` scenario's list and results are permutations of the calls'
//!   results.
//! - lazy: for 1..=12 threads racing on `get_or_init`, each offering its own value, exactly one
//!   initialiser runs and every thread gets that one value; the `singleton` scenario prints k
//!   equal `SOME CONNECTION - r` lines, r in 1..=10, after one creation.
//! - counter: for 1..=12 threads, the lines read back are numbers 0..k-1 in order, printed by
//!   `THREAD k` .. `THREAD 1` each once; `CounterLine` renders and parses back.
//! - zero workers or threads is rejected by every constructor, with an error, never a hang.
//!
//! Case counts are modest: every case spawns real threads.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use proptest::prelude::*;
use threadproof::lazy::OnceValue;
use threadproof::process::World;
use threadproof::scenarios::counter::{Counter, CounterConfig, CounterLine, CounterVariant};
use threadproof::scenarios::pool::{Pool, PoolConfig, PoolVariant};
use threadproof::scenarios::singleton::{
    parse_connection, Singleton, SingletonConfig, SingletonVariant,
};
use threadproof::scenarios::Scenario;
use threadproof::sync::{spawn, ParkingLot, Primitives, Std};
use threadproof::thread_pool::{as_completed, TaskError, ThreadPool};

/// The tasks: input i panics with `"task {i} failed"` when `panics[i]`, else returns i * 3.
fn task(i: usize, panics: bool) -> usize {
    if panics {
        panic!("task {i} failed");
    }
    i * 3
}

fn expected(i: usize, panics: bool) -> Result<usize, TaskError> {
    if panics {
        Err(TaskError::Panicked(format!("task {i} failed")))
    } else {
        Ok(i * 3)
    }
}

fn check_pool<P: Primitives>(workers: usize, panics: &[bool]) -> Result<(), TestCaseError> {
    let pool = ThreadPool::<P>::new(workers).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let inputs: Vec<(usize, bool)> = panics.iter().copied().enumerate().collect();
    let expected_in_order: Vec<_> = inputs.iter().map(|&(i, p)| expected(i, p)).collect();

    let mapped: Vec<_> = pool
        .map(|(i, p)| task(i, p), inputs.clone())
        .expect("open pool")
        .collect();
    prop_assert_eq!(&mapped, &expected_in_order, "{}: map", P::NAME);

    let futures: Vec<_> = inputs
        .iter()
        .map(|&(i, p)| pool.submit(move || task(i, p)).expect("open pool"))
        .collect();
    let mut yielded: Vec<_> = as_completed(futures).map(|f| f.result()).collect();
    let mut expected_sorted = expected_in_order.clone();
    yielded.sort();
    expected_sorted.sort();
    prop_assert_eq!(yielded, expected_sorted, "{}: as_completed", P::NAME);
    Ok(())
}

fn check_pool_scenario<P: Primitives>(config: &PoolConfig) -> Result<(), TestCaseError> {
    let outcome = Pool::run::<P>(config, PoolVariant::Correct, World::Os)
        .map_err(|e| TestCaseError::fail(format!("{}: {e}", P::NAME)))?;
    let mut calls: Vec<String> = config.calls().iter().map(|c| c.result()).collect();
    calls.sort();
    let (mut results, mut list) = (outcome.results.clone(), outcome.list.clone());
    results.sort();
    list.sort();
    prop_assert_eq!(&results, &calls, "{}: results", P::NAME);
    prop_assert_eq!(&list, &calls, "{}: list", P::NAME);
    prop_assert_eq!(Pool::invariant(config, &outcome), Ok(()));
    Ok(())
}

/// k threads each offer their own value to one `OnceValue`.
fn check_once<P: Primitives>(threads: usize) -> Result<(), TestCaseError> {
    let once = Arc::new(OnceValue::<P, usize>::new());
    let inits = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let (once, inits) = (Arc::clone(&once), Arc::clone(&inits));
            spawn::<P, _, _>(format!("getter-{i}"), move || {
                *once.get_or_init(|| {
                    inits.fetch_add(1, SeqCst);
                    1000 + i
                })
            })
            .expect("spawn")
        })
        .collect();
    let seen: BTreeSet<usize> = handles
        .into_iter()
        .map(|h| h.join().expect("no panic"))
        .collect();
    prop_assert_eq!(inits.load(SeqCst), 1, "{}: initialisers run", P::NAME);
    prop_assert_eq!(seen.len(), 1, "{}: values seen {:?}", P::NAME, seen);
    let value = *seen.iter().next().unwrap();
    prop_assert!((1000..1000 + threads).contains(&value));
    prop_assert_eq!(once.get().copied(), Some(value));
    Ok(())
}

fn check_singleton<P: Primitives>(config: &SingletonConfig) -> Result<(), TestCaseError> {
    let outcome = Singleton::run::<P>(config, SingletonVariant::DoubleChecked, World::Os)
        .map_err(|e| TestCaseError::fail(format!("{}: {e}", P::NAME)))?;
    prop_assert_eq!(outcome.creations, 1);
    prop_assert_eq!(outcome.lines.len(), config.threads());
    let rs: BTreeSet<Option<u32>> = outcome.lines.iter().map(|l| parse_connection(l)).collect();
    prop_assert_eq!(rs.len(), 1, "{}: {:?}", P::NAME, outcome.lines);
    let r = rs.into_iter().next().unwrap();
    prop_assert!(matches!(r, Some(1..=10)), "{}: r = {:?}", P::NAME, r);
    prop_assert_eq!(Singleton::invariant(config, &outcome), Ok(()));
    Ok(())
}

fn check_counter<P: Primitives>(threads: usize) -> Result<(), TestCaseError> {
    let config = CounterConfig::new(threads).expect("threads >= 1");
    let lines = Counter::run::<P>(&config, CounterVariant::Locked, World::Os)
        .map_err(|e| TestCaseError::fail(format!("{}: {e}", P::NAME)))?;
    // Read back from the rendered text, as a user reads the output.
    let parsed: Vec<CounterLine> = Counter::render(&lines)
        .lines()
        .map(|l| CounterLine::parse(l).expect("a `Printing Number` line"))
        .collect();
    prop_assert_eq!(&parsed, &lines);
    let numbers: Vec<usize> = parsed.iter().map(|l| l.number).collect();
    prop_assert_eq!(numbers, (0..threads).collect::<Vec<_>>(), "{}", P::NAME);
    let printers: BTreeSet<String> = parsed.iter().map(|l| l.thread.clone()).collect();
    let names: BTreeSet<String> = (1..=threads).map(|i| format!("THREAD {i}")).collect();
    prop_assert_eq!(
        printers.len(),
        threads,
        "{}: a thread printed twice",
        P::NAME
    );
    prop_assert_eq!(printers, names);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn pool_map_keeps_order_and_as_completed_yields_each_once(
        workers in 1usize..=8,
        panics in proptest::collection::vec(proptest::bool::weighted(0.2), 0..40),
    ) {
        check_pool::<Std>(workers, &panics)?;
        check_pool::<ParkingLot>(workers, &panics)?;
    }

    #[test]
    fn pool_scenario_results_and_list_are_permutations(workers in 1usize..=8, tasks in 0usize..=40) {
        let config = PoolConfig::new(workers, tasks).unwrap();
        check_pool_scenario::<Std>(&config)?;
        check_pool_scenario::<ParkingLot>(&config)?;
    }

    #[test]
    fn once_value_initialises_once(threads in 1usize..=12) {
        check_once::<Std>(threads)?;
        check_once::<ParkingLot>(threads)?;
    }

    #[test]
    fn singleton_prints_one_connection(threads in 1usize..=12, fixed in proptest::option::of(1u32..=10)) {
        let mut config = SingletonConfig::new(threads).unwrap();
        if let Some(r) = fixed {
            config = config.with_r(r).unwrap();
        }
        check_singleton::<Std>(&config)?;
        check_singleton::<ParkingLot>(&config)?;
    }

    #[test]
    fn counter_prints_0_to_k_minus_1_once_per_thread(threads in 1usize..=12) {
        check_counter::<Std>(threads)?;
        check_counter::<ParkingLot>(threads)?;
    }

    #[test]
    fn counter_lines_parse_back(number in 0usize..1_000_000, thread in "[A-Za-z0-9 _-]{0,20}") {
        let line = CounterLine { number, thread };
        prop_assert_eq!(CounterLine::parse(&line.render()), Some(line));
    }

    #[test]
    fn r_outside_1_to_10_is_rejected(r in 11u32..) {
        prop_assert!(SingletonConfig::new(1).unwrap().with_r(r).is_err());
        prop_assert!(SingletonConfig::new(1).unwrap().with_r(0).is_err());
    }
}

#[test]
fn zero_workers_or_threads_is_rejected() {
    for tasks in [0, 4] {
        let e = PoolConfig::new(0, tasks).unwrap_err();
        assert_eq!(e.to_string(), "threads must be at least 1");
    }
    assert!(ThreadPool::<Std>::new(0).is_err());
    assert!(ThreadPool::<ParkingLot>::new(0).is_err());
    assert!(SingletonConfig::new(0).is_err());
    assert!(CounterConfig::new(0).is_err());
}
