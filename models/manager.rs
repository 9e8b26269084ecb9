//! `manager` (the notes' In[9], `Manager().list()`): client processes appending to a list held
//! by a server process, over simulated processes, with a lost answer (the client resends) as
//! an explored choice. Every append is in the list exactly once.

use threadproof::explore::{LoomConfig, ShuttleConfig};
use threadproof::scenarios::manager::{ManagerConfig, ManagerScenario, ManagerScenarioVariant};
use threadproof::scenarios::{explore_loom, explore_shuttle};

use crate::kill_matrix::{kill_rows, Checkers};
use crate::support::{assert_proved, assert_sampled, one_test_each, pct, random};

/// `clients` clients, `appends` appends, and the answer to append `lose` lost once after it
/// was applied, if any.
fn manager(clients: usize, appends: usize, lose: Option<usize>) -> ManagerConfig {
    let config = ManagerConfig::new(clients, appends).unwrap();
    match lose {
        None => config,
        Some(i) => config.losing_answer(i).unwrap(),
    }
}

mod proofs {
    use super::*;

    /// Two clients, three appends, for each choice of a lost answer (none, or each append's),
    /// every interleaving within preemption bound 1: every append is in the list exactly once.
    #[test]
    fn two_clients_three_appends_every_lost_answer_bound_1() {
        for lose in [None, Some(0), Some(1), Some(2)] {
            let report = explore_loom::<ManagerScenario>(
                &manager(2, 3, lose),
                ManagerScenarioVariant::AppliesOnce,
                &LoomConfig::exhaustive().preemption_bound(1),
            );
            assert_proved(&format!("manager c=2 appends=3 lose={lose:?}"), &report);
            // Clients interleave: more than one list order is reachable.
            assert!(report.outcomes.len() > 1, "{:?}", report.outcomes.keys());
        }
    }
}

/// The notes' size (3 clients), with and without a lost answer.
mod sampled {
    use super::*;

    fn notes_size(lose: Option<usize>, shuttle: ShuttleConfig) {
        let mut config = ManagerConfig::notes();
        if let Some(i) = lose {
            config = config.losing_answer(i).unwrap();
        }
        let report = explore_shuttle::<ManagerScenario>(
            &config,
            ManagerScenarioVariant::AppliesOnce,
            &shuttle,
        );
        assert_sampled(&format!("manager notes lose={lose:?}"), &report);
        assert!(report.outcomes.len() > 1, "{}", report.summary());
    }

    one_test_each! { notes_size:
        notes_random: None, random();
        notes_pct: None, pct();
        notes_answer_0_lost_random: Some(0), random();
        notes_answer_0_lost_pct: Some(0), pct();
        notes_answer_3_lost_random: Some(3), random();
        notes_answer_3_lost_pct: Some(3), pct();
    }
}

// 2 clients, 3 appends, the answer to append 0 lost once after it was applied: applies-twice
// needs a retry to show.
kill_rows! {
    ManagerScenario, manager(2, 3, Some(0)), Checkers::bounded();
    applies_once: ManagerScenarioVariant::AppliesOnce;
    applies_twice: ManagerScenarioVariant::AppliesTwice;
}

/// Without a lost answer nothing is retried, and applies-twice is indistinguishable from the
/// correct server: the lost answer in the kill rows' config is what exposes it.
#[test]
fn applies_twice_escapes_loom_without_a_lost_answer() {
    let report = explore_loom::<ManagerScenario>(
        &manager(2, 3, None),
        ManagerScenarioVariant::AppliesTwice,
        &LoomConfig::exhaustive().preemption_bound(1),
    );
    assert_eq!(report.failure_kind(), None, "{}", report.summary());
    assert!(!report.outcomes.is_empty(), "{}", report.summary());
}

#[cfg(any(feature = "deep", loom))]
mod deep {
    use super::*;

    /// Two clients, two appends, each lost-answer choice, preemption bound 2.
    #[test]
    fn two_clients_two_appends_every_lost_answer_bound_2() {
        for lose in [None, Some(0), Some(1)] {
            let report = explore_loom::<ManagerScenario>(
                &manager(2, 2, lose),
                ManagerScenarioVariant::AppliesOnce,
                &LoomConfig::exhaustive().preemption_bound(2),
            );
            assert_proved(&format!("manager c=2 appends=2 lose={lose:?}"), &report);
            assert_eq!(report.outcomes.len(), 2);
        }
    }
}
