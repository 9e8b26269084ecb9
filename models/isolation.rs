//! `isolation` (the notes' In[5]-[7]): child processes each append to their own copy of the
//! parent's list, over simulated processes (threads that share nothing but channels). Each
//! child's copy holds only its own result; the parent's stays empty.

use threadproof::explore::{LoomConfig, ShuttleConfig};
use threadproof::scenarios::isolation::{Isolation, IsolationConfig, IsolationVariant};
use threadproof::scenarios::{explore_loom, explore_shuttle};

use crate::kill_matrix::{kill_rows, Checkers};
use crate::support::{assert_proved, assert_sampled, one_test_each, pct, random};

mod proofs {
    use super::*;

    /// Three isolated processes, every interleaving within preemption bound 1 (about a second
    /// in a debug build; `mod deep` runs bound 2).
    #[test]
    fn three_processes_bound_1() {
        let config = IsolationConfig::with_processes(3).unwrap();
        let loom = LoomConfig::exhaustive().preemption_bound(1);
        let report = explore_loom::<Isolation>(&config, IsolationVariant::Processes, &loom);
        assert_proved("isolation k=3", &report);
        assert_eq!(report.outcomes.len(), 1);
    }
}

/// The notes' processes, random and PCT.
mod sampled {
    use super::*;

    fn isolation(shuttle: ShuttleConfig) {
        let report = explore_shuttle::<Isolation>(
            &IsolationConfig::notes(),
            IsolationVariant::Processes,
            &shuttle,
        );
        assert_sampled("isolation notes", &report);
        assert_eq!(report.outcomes.len(), 1);
    }

    one_test_each! { isolation:
        notes_random: random();
        notes_pct: pct();
    }
}

// Children that share the parent's memory break the invariant in every execution, whatever the
// checker.
kill_rows! {
    Isolation, IsolationConfig::with_processes(2).unwrap(), Checkers::bounded();
    processes: IsolationVariant::Processes;
    shared_memory: IsolationVariant::SharedMemory;
}

#[cfg(any(feature = "deep", loom))]
mod deep {
    use super::*;

    /// Three isolated processes, every interleaving within preemption bound 2.
    #[test]
    fn three_processes_bound_2() {
        let config = IsolationConfig::with_processes(3).unwrap();
        let loom = LoomConfig::exhaustive().preemption_bound(2);
        let report = explore_loom::<Isolation>(&config, IsolationVariant::Processes, &loom);
        assert_proved("isolation k=3 bound 2", &report);
        assert_eq!(report.outcomes.len(), 1);
    }
}
