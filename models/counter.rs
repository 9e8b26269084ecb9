//! `counter` (the notes' named threads, In[9]-[11]): each thread takes the next number under
//! the lock and prints it with its name. Numbers 0..k-1 in print order, each thread once.

use threadproof::explore::{LoomConfig, ShuttleConfig};
use threadproof::scenarios::counter::{Counter, CounterConfig, CounterVariant};
use threadproof::scenarios::{explore_loom, explore_shuttle, Scenario};

use crate::common::snapshots;
use crate::kill_matrix::{kill_rows, Checkers};
use crate::support::{
    assert_mutants_caught, assert_proved, assert_sampled, one_test_each, pct, random,
};

mod proofs {
    use super::*;

    /// The notes' three named threads, every interleaving (~900 executions): the numbers are
    /// always 0, 1, 2 in print order, each of the 3! assignments of numbers to threads is
    /// reachable, and the mutant at the same size is caught. (Four threads is ~230k
    /// executions: the atomic counter's loads and stores are branch points of their own.)
    #[test]
    fn three_threads_reach_all_6_assignments() {
        let config = CounterConfig::new(3).unwrap();
        let loom = LoomConfig::exhaustive();
        let report = explore_loom::<Counter>(&config, CounterVariant::Locked, &loom);
        assert_proved("counter k=3 exhaustive", &report);
        let outcomes: Vec<String> = report.outcomes.keys().map(Counter::render).collect();
        assert_eq!(outcomes.len(), 6);
        let _snapshots = snapshots();
        insta::assert_snapshot!("counter_k3_loom_outcomes", outcomes.join("\n"));
        assert_mutants_caught::<Counter>(&config, &loom);
    }
}

/// Up to 8 named threads, beyond loom's reach.
mod sampled {
    use super::*;

    /// k named threads: numbers 0..k-1 in print order, each thread once; with k > 1 the
    /// assignment of numbers to threads varies.
    fn counter(threads: usize, shuttle: ShuttleConfig) {
        let config = CounterConfig::new(threads).unwrap();
        let report = explore_shuttle::<Counter>(&config, CounterVariant::Locked, &shuttle);
        assert_sampled(&format!("counter k={threads}"), &report);
        if threads > 1 {
            assert!(
                report.outcomes.len() > 1,
                "one outcome only: {}",
                report.summary()
            );
        }
    }

    one_test_each! { counter:
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
    Counter, CounterConfig::new(3).unwrap(), Checkers::as_check();
    locked: CounterVariant::Locked;
    increment_outside_lock: CounterVariant::IncrementOutsideLock;
}
