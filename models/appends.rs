//! `appends` (the notes' In[2]-[3]): threads appending their API call's result to one list
//! under one lock. Every order of the threads' results is reachable, and no other list.

use threadproof::explore::{LoomConfig, ShuttleConfig};
use threadproof::scenarios::appends::{Appends, AppendsConfig, AppendsVariant};
use threadproof::scenarios::{explore_loom, explore_shuttle, Scenario};

use crate::common::snapshots;
use crate::kill_matrix::{kill_rows, Checkers};
use crate::support::{assert_proved, assert_sampled, one_test_each, pct, random};

mod proofs {
    use super::*;

    /// Three appending threads: all 3! = 6 orders are reachable, and no other.
    #[test]
    fn three_threads_reach_all_6_orders() {
        let config = AppendsConfig::with_threads(3).unwrap();
        let report =
            explore_loom::<Appends>(&config, AppendsVariant::Locked, &LoomConfig::exhaustive());
        assert_proved("appends k=3 exhaustive", &report);
        let orders: Vec<String> = report.outcomes.keys().map(Appends::render).collect();
        assert_eq!(orders.len(), 6);
        let _snapshots = snapshots();
        insta::assert_snapshot!("appends_k3_loom_outcomes", orders.join("\n"));
    }
}

/// Random and PCT schedules with 1 to 8 threads, beyond loom's 4 threads besides main.
mod sampled {
    use super::*;

    /// All runs of `appends` with k threads: each outcome is valid, and with k > 1 the
    /// schedules really vary (more than one order reached).
    fn appends(threads: usize, shuttle: ShuttleConfig) {
        let config = AppendsConfig::with_threads(threads).unwrap();
        let report = explore_shuttle::<Appends>(&config, AppendsVariant::Locked, &shuttle);
        assert_sampled(&format!("appends k={threads}"), &report);
        if threads > 1 {
            assert!(
                report.outcomes.len() > 1,
                "one order only: {}",
                report.summary()
            );
        }
    }

    one_test_each! { appends:
        notes_random: 4, random();
        notes_pct: 4, pct();
        k1_random: 1, random();
        k2_random: 2, random();
        k3_random: 3, random();
        k5_random: 5, random();
        k6_random: 6, random();
        k7_random: 7, random();
        k8_random: 8, random();
        k2_pct: 2, pct();
        k3_pct: 3, pct();
        k5_pct: 5, pct();
        k6_pct: 6, pct();
        k7_pct: 7, pct();
        k8_pct: 8, pct();
    }

    /// The same seed explores the same schedules: two runs reach the same outcomes, counts and
    /// all.
    #[test]
    fn runs_are_reproducible() {
        let config = AppendsConfig::notes();
        let shuttle = ShuttleConfig::random(200).seed(42);
        let first = explore_shuttle::<Appends>(&config, AppendsVariant::Locked, &shuttle);
        let second = explore_shuttle::<Appends>(&config, AppendsVariant::Locked, &shuttle);
        assert_eq!(first.outcomes, second.outcomes);
        let other =
            explore_shuttle::<Appends>(&config, AppendsVariant::Locked, &shuttle.clone().seed(43));
        assert_ne!(
            first.outcomes, other.outcomes,
            "a different seed should sample differently"
        );
    }
}

kill_rows! {
    Appends, AppendsConfig::with_threads(3).unwrap(), Checkers::as_check();
    locked: AppendsVariant::Locked;
    lost_update: AppendsVariant::LostUpdate;
}

#[cfg(any(feature = "deep", loom))]
mod deep {
    use super::*;

    /// The notes' 4 threads (loom's maximum with main), every interleaving: all 4! = 24 orders
    /// of the list are reachable, and no other.
    #[test]
    fn notes_size_exhaustive_reaches_all_24_orders() {
        let config = AppendsConfig::notes();
        let report =
            explore_loom::<Appends>(&config, AppendsVariant::Locked, &LoomConfig::exhaustive());
        assert_proved("appends k=4 exhaustive", &report);
        assert_eq!(report.outcomes.len(), 24);
        let orders: Vec<String> = report.outcomes.keys().map(Appends::render).collect();
        let _snapshots = snapshots();
        insta::assert_snapshot!("appends_loom_outcomes", orders.join("\n"));
    }
}
