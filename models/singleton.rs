//! `singleton` (the notes' In[73], `DatabaseConnection.get_connection()`): threads racing on
//! the first call of a lazily initialised value. One creation, every thread the same line.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use threadproof::explore::{self, LoomConfig, ShuttleConfig};
use threadproof::scenarios::singleton::{Singleton, SingletonConfig, SingletonVariant};
use threadproof::scenarios::{explore_loom, explore_shuttle, Scenario};
use threadproof::sync::{spawn, AtomicUsize, Loom, OnceLock};

use crate::common::snapshots;
use crate::kill_matrix::{kill_rows, Checkers};
use crate::support::{
    assert_mutants_caught, assert_proved, assert_sampled, one_test_each, pct, random,
};

/// k threads racing on the first `get_connection`, with r fixed at 4 so that the outcome does
/// not depend on chance.
fn racing(threads: usize) -> SingletonConfig {
    SingletonConfig::new(threads).unwrap().with_r(4).unwrap()
}

mod proofs {
    use super::*;

    /// Three threads racing on the first `get_connection`, every interleaving (~2.5k
    /// executions): one creation, one line, three times; and each mutant at the same size
    /// caught. (Four threads is ~1.2M executions, ~3 minutes.)
    #[test]
    fn three_threads_exhaustive() {
        let config = racing(3);
        let loom = LoomConfig::exhaustive();
        let report = explore_loom::<Singleton>(&config, SingletonVariant::DoubleChecked, &loom);
        assert_proved("singleton k=3 exhaustive", &report);
        assert_eq!(report.outcomes.len(), 1);
        let outcome = report.outcomes.keys().next().unwrap();
        assert_eq!(outcome.creations, 1);
        let _snapshots = snapshots();
        insta::assert_snapshot!("singleton_k3_loom_outcome", Singleton::render(outcome));
        assert_mutants_caught::<Singleton>(&config, &loom);
    }

    /// An initialiser that panics leaves the value uninitialised; the other thread's `get`
    /// initialises it. Every interleaving: exactly one thread sees the panic (whichever ran
    /// the first attempt), both attempts ran, and the value is the second attempt's.
    #[test]
    fn lazy_retries_after_a_panicking_initialiser() {
        type Seen = (Vec<Result<usize, String>>, usize, Option<usize>);
        let report = explore::loom::explore(
            &LoomConfig::exhaustive(),
            || -> Seen {
                let once = Arc::new(OnceLock::<Loom, usize>::new());
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
        assert_proved("lazy retry after panic", &report);
    }
}

/// Up to 8 threads racing, beyond loom's reach.
mod sampled {
    use super::*;

    /// k threads racing on the first `get_connection`: one creation, one line, k times.
    fn singleton(threads: usize, shuttle: ShuttleConfig) {
        let report = explore_shuttle::<Singleton>(
            &racing(threads),
            SingletonVariant::DoubleChecked,
            &shuttle,
        );
        assert_sampled(&format!("singleton k={threads}"), &report);
        assert_eq!(report.outcomes.len(), 1);
    }

    one_test_each! { singleton:
        k1_random: 1, random();
        k3_random: 3, random();
        k5_random: 5, random();
        k8_random: 8, random();
        k2_pct: 2, pct();
        k3_pct: 3, pct();
        k5_pct: 5, pct();
        k8_pct: 8, pct();
    }
}

kill_rows! {
    Singleton, racing(3), Checkers::as_check();
    double_checked: SingletonVariant::DoubleChecked;
    double_init: SingletonVariant::DoubleInit;
    // Loom: the fast path's read of the connection is not ordered after its write, reported as
    // "Causality violation: Concurrent read and write accesses" (a panic). Shuttle cannot see
    // it: its atomics are all SeqCst, so a Relaxed publication is as good as a Release one
    // there; its rows pin down that it escapes, so that the gap is stated, not silent.
    relaxed_publication: SingletonVariant::RelaxedPublication;
}
