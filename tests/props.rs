//! Properties of the production scenarios and components, over generated parameters, on both
//! production backends (`Std` and `ParkingLot`). Expected values are built independently of
//! the scenarios' own invariants. Case counts are modest: every case spawns real threads.
//!
//! - `turns`: for every k in 1..=8 and n in 0..=300, the correct version (`targeted`) and the
//!   notes' version (`notify-all`) print exactly the rotation `Thread-{(i-1)%k}: i` for
//!   i = 1..=n, compared with an expected list built independently of the scenario's invariant.
//! - `appends`: for 1..=8 calls with arbitrary urls and retry numbers, the shared list is a
//!   permutation of what the threads returned, and thread i returned `calls[i].result()`.
//! - `thread_pool`: for 1..=8 workers and up to 40 tasks, some of them panicking (chosen at
//!   random), `map` returns each input's value in input order, and each panicking input's
//!   message as its error; `as_completed` yields every future exactly once (the multiset of
//!   results is the inputs'); the `pool` scenario's list and results are permutations of the
//!   calls' results.
//! - `singleton`: for 1..=12 threads racing on `get_or_init`, each offering its own value,
//!   exactly one initialiser runs and every thread gets that one value; the `singleton`
//!   scenario prints k equal `SOME CONNECTION - r` lines, r in 1..=10, after one creation.
//! - `counter`: for 1..=12 threads, the lines read back are numbers 0..k-1 in order, printed
//!   by `THREAD k` .. `THREAD 1` each once; `CounterLine` renders and parses back.
//! - `configs`: zero threads or workers is rejected at configuration time, with an error, by
//!   every constructor, so no run with nobody to take a turn (a hang) can be started; the
//!   default configs are the notes'.

use proptest::prelude::*;
use threadproof::process::World;
use threadproof::scenarios::Scenario;
use threadproof::sync::{ParkingLot, Primitives, Std};

mod turns {
    use super::*;
    use threadproof::scenarios::turns::{Line, Turns, TurnsConfig, TurnsVariant};

    /// The rotation built by walking the threads round-robin, not from the `(i-1)%k` formula.
    fn rotation(k: usize, n: usize) -> Vec<Line> {
        (0..k)
            .cycle()
            .zip(1..=n)
            .map(|(thread, number)| Line { thread, number })
            .collect()
    }

    /// Runs `turns` on `P` and checks its lines against the rotation.
    fn check_turns<P: Primitives>(
        config: &TurnsConfig,
        variant: TurnsVariant,
        expected: &[Line],
    ) -> Result<(), TestCaseError> {
        let lines = Turns::run::<P>(config, variant, World::Os)
            .map_err(|e| TestCaseError::fail(format!("{} {variant:?}: {e}", P::NAME)))?;
        prop_assert_eq!(
            lines.len(),
            config.n(),
            "{} {:?}: wrong line count",
            P::NAME,
            variant
        );
        prop_assert_eq!(&lines[..], expected, "{} {:?}", P::NAME, variant);
        prop_assert_eq!(Turns::invariant(config, &lines), Ok(()));
        let rendered: Vec<String> = Turns::render(&lines).lines().map(str::to_owned).collect();
        let expected_text: Vec<String> = expected
            .iter()
            .map(|l| format!("Thread-{}: {}", l.thread, l.number))
            .collect();
        prop_assert_eq!(rendered, expected_text);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn turns_targeted_prints_the_rotation(k in 1usize..=8, n in 0usize..=300) {
            let config = TurnsConfig::new(k, n).unwrap();
            let expected = rotation(k, n);
            check_turns::<Std>(&config, TurnsVariant::Targeted, &expected)?;
            check_turns::<ParkingLot>(&config, TurnsVariant::Targeted, &expected)?;
        }

        #[test]
        fn turns_notify_all_prints_the_rotation(k in 1usize..=8, n in 0usize..=300) {
            let config = TurnsConfig::new(k, n).unwrap();
            let expected = rotation(k, n);
            check_turns::<Std>(&config, TurnsVariant::NotifyAll, &expected)?;
            check_turns::<ParkingLot>(&config, TurnsVariant::NotifyAll, &expected)?;
        }
    }
}

mod appends {
    use super::*;
    use threadproof::scenarios::appends::{ApiCall, Appends, AppendsConfig, AppendsVariant};

    /// Runs `appends` on `P` and checks the list against the returns and the calls.
    fn check_appends<P: Primitives>(calls: &[ApiCall]) -> Result<(), TestCaseError> {
        let config = AppendsConfig::new(calls.to_vec())
            .map_err(|e| TestCaseError::fail(format!("config rejected: {e}")))?;
        let outcome = Appends::run::<P>(&config, AppendsVariant::Locked, World::Os)
            .map_err(|e| TestCaseError::fail(format!("{}: {e}", P::NAME)))?;
        let expected: Vec<String> = calls.iter().map(ApiCall::result).collect();
        prop_assert_eq!(&outcome.returned, &expected, "{}: returned[i]", P::NAME);
        let mut listed = outcome.list.clone();
        let mut returned = outcome.returned.clone();
        listed.sort();
        returned.sort();
        prop_assert_eq!(
            listed,
            returned,
            "{}: list {:?} is not a permutation of returned {:?}",
            P::NAME,
            outcome.list,
            outcome.returned
        );
        prop_assert_eq!(Appends::invariant(&config, &outcome), Ok(()));
        Ok(())
    }

    fn api_calls() -> impl Strategy<Value = Vec<ApiCall>> {
        prop::collection::vec(
            (any::<String>(), any::<u32>()).prop_map(|(url, retry)| ApiCall::new(url, retry)),
            1..=8,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn appends_lists_a_permutation_of_the_returns(calls in api_calls()) {
            check_appends::<Std>(&calls)?;
            check_appends::<ParkingLot>(&calls)?;
        }
    }
}

mod thread_pool {
    use super::*;
    use threadproof::scenarios::pool::{Pool, PoolConfig, PoolVariant};
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
    }
}

mod singleton {
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Arc;

    use super::*;
    use threadproof::scenarios::singleton::{
        parse_connection, Singleton, SingletonConfig, SingletonVariant,
    };
    use threadproof::sync::{spawn, OnceLock};

    /// k threads each offer their own value to one `OnceLock`.
    fn check_once<P: Primitives>(threads: usize) -> Result<(), TestCaseError> {
        let once = Arc::new(OnceLock::<P, usize>::new());
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

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
        fn r_outside_1_to_10_is_rejected(r in 11u32..) {
            prop_assert!(SingletonConfig::new(1).unwrap().with_r(r).is_err());
            prop_assert!(SingletonConfig::new(1).unwrap().with_r(0).is_err());
        }
    }
}

mod counter {
    use std::collections::BTreeSet;

    use super::*;
    use threadproof::scenarios::counter::{Counter, CounterConfig, CounterLine, CounterVariant};

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
        fn counter_prints_0_to_k_minus_1_once_per_thread(threads in 1usize..=12) {
            check_counter::<Std>(threads)?;
            check_counter::<ParkingLot>(threads)?;
        }

        #[test]
        fn counter_lines_parse_back(number in 0usize..1_000_000, thread in "[A-Za-z0-9 _-]{0,20}") {
            let line = CounterLine { number, thread };
            prop_assert_eq!(CounterLine::parse(&line.render()), Some(line));
        }
    }
}

mod configs {
    use super::*;
    use threadproof::scenarios::appends::{ApiCall, Appends, AppendsConfig};
    use threadproof::scenarios::counter::CounterConfig;
    use threadproof::scenarios::pool::PoolConfig;
    use threadproof::scenarios::singleton::SingletonConfig;
    use threadproof::scenarios::turns::{Turns, TurnsConfig};
    use threadproof::scenarios::Params;
    use threadproof::thread_pool::ThreadPool;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn zero_threads_is_rejected(n in any::<usize>()) {
            let err = TurnsConfig::new(0, n).unwrap_err();
            prop_assert!(err.0.contains("threads"), "unclear error: {}", err);
            let params = Params { threads: Some(0), n: Some(n) };
            prop_assert!(Turns::config(&params).is_err(), "turns accepted zero threads");
            let appends = Appends::config(&Params { threads: Some(0), n: None });
            prop_assert!(appends.is_err(), "appends accepted zero threads");
        }

        #[test]
        fn positive_threads_are_accepted(k in 1usize..=64, n in any::<usize>()) {
            let config = TurnsConfig::new(k, n).unwrap();
            prop_assert_eq!((config.threads(), config.n()), (k, n));
            let params = Params { threads: Some(k), n: Some(n) };
            prop_assert_eq!(Turns::config(&params), Ok(config));
            let appends = AppendsConfig::with_threads(k).unwrap();
            prop_assert_eq!(appends.calls().len(), k);
            let notes = AppendsConfig::notes();
            let shared = k.min(notes.calls().len());
            prop_assert_eq!(&appends.calls()[..shared], &notes.calls()[..shared]);
        }
    }

    #[test]
    fn no_calls_is_rejected() {
        let err = AppendsConfig::new(vec![]).unwrap_err();
        assert!(err.0.contains("threads"), "unclear error: {err}");
        let err = AppendsConfig::with_threads(0).unwrap_err();
        assert!(err.0.contains("threads"), "unclear error: {err}");
        let err = Turns::config(&Params {
            threads: Some(0),
            n: None,
        })
        .unwrap_err();
        assert!(err.0.contains("threads"), "unclear error: {err}");
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

    #[test]
    fn notes_configs_are_the_notes() {
        let turns = Turns::config(&Params::default()).unwrap();
        assert_eq!((turns.threads(), turns.n()), (3, 15));
        let appends = Appends::config(&Params::default()).unwrap();
        assert_eq!(appends, AppendsConfig::notes());
        let results: Vec<String> = appends.calls().iter().map(ApiCall::result).collect();
        assert_eq!(
            results,
            [
                "https://google.com10",
                "https://facebook.com5",
                "https://reddit.com5",
                "https://instagram.com15"
            ]
        );
    }
}
