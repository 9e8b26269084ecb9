//! `turns` (the notes' NumberPrinter, In[9]-[11]): k threads take turns printing 1..=n, one
//! condvar wait and one wakeup per turn. Only the strict rotation `Thread-{(i-1)%k}: i` is
//! reachable.

use threadproof::explore::{LoomConfig, ShuttleConfig};
use threadproof::process::World;
use threadproof::scenarios::turns::{Turns, TurnsConfig, TurnsVariant};
use threadproof::scenarios::{explore_loom, explore_shuttle, Scenario};

use crate::common::snapshots;
use crate::kill_matrix::{kill_rows, Checkers};
use crate::support::{assert_proved, assert_sampled, one_test_each, pct, random};

mod proofs {
    use super::*;

    /// Two threads taking turns to 4, every interleaving, with up to one spurious wakeup
    /// anywhere.
    #[test]
    fn k2_n4_exhaustive_with_spurious_wakeups() {
        let config = TurnsConfig::new(2, 4).unwrap();
        let loom = LoomConfig::exhaustive().spurious_wakeups(1);
        let report = explore_loom::<Turns>(&config, TurnsVariant::Targeted, &loom);
        assert_proved("turns k=2 n=4 spurious<=1", &report);
        assert_eq!(report.outcomes.len(), 1);
        let lines = report.outcomes.keys().next().unwrap();
        let _snapshots = snapshots();
        insta::assert_snapshot!("turns_k2_n4_loom_outcome", Turns::render(lines));
    }

    /// The notes' notify_all version at a small size: correct, reaching only the rotation.
    #[test]
    fn notify_all_k2_n3_exhaustive() {
        let config = TurnsConfig::new(2, 3).unwrap();
        let report =
            explore_loom::<Turns>(&config, TurnsVariant::NotifyAll, &LoomConfig::exhaustive());
        assert_proved("turns notify-all k=2 n=3", &report);
        assert_eq!(report.outcomes.len(), 1);
    }

    /// A one-thread rotation never waits: one execution, the numbers in order.
    #[test]
    fn single_thread_is_one_execution() {
        let config = TurnsConfig::new(1, 5).unwrap();
        let report =
            explore_loom::<Turns>(&config, TurnsVariant::Targeted, &LoomConfig::exhaustive());
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
}

/// Random and PCT schedules, spurious wakeups on, at the notes' size and with up to 8 threads.
mod sampled {
    use super::*;

    /// All runs of `turns`, with spurious wakeups on: the one rotation, whatever the schedule.
    fn turns(config: TurnsConfig, variant: TurnsVariant, shuttle: ShuttleConfig) {
        let report = explore_shuttle::<Turns>(&config, variant, &shuttle.spurious_one_in(4));
        assert_sampled(&format!("turns {variant:?} {config:?}"), &report);
        assert_eq!(report.outcomes.len(), 1);
    }

    /// Targeted turns with `threads` threads and 2 * `threads` + 1 turns.
    fn rotation(threads: usize, shuttle: ShuttleConfig) {
        let config = TurnsConfig::new(threads, 2 * threads + 1).unwrap();
        turns(config, TurnsVariant::Targeted, shuttle);
    }

    one_test_each! { turns:
        notes_random: Turns::notes_config(), TurnsVariant::Targeted, random();
        notes_pct: Turns::notes_config(), TurnsVariant::Targeted, pct();
        notes_notify_all_random: Turns::notes_config(), TurnsVariant::NotifyAll, random();
        notes_notify_all_pct: Turns::notes_config(), TurnsVariant::NotifyAll, pct();
    }

    one_test_each! { rotation:
        k1_random: 1, random();
        k2_random: 2, random();
        k4_random: 4, random();
        k5_random: 5, random();
        k6_random: 6, random();
        k7_random: 7, random();
        k8_random: 8, random();
        k2_pct: 2, pct();
        k4_pct: 4, pct();
        k5_pct: 5, pct();
        k6_pct: 6, pct();
        k7_pct: 7, pct();
        k8_pct: 8, pct();
    }
}

/// notify-one needs three threads: with two, the one woken is always the right one.
fn kill_config() -> TurnsConfig {
    TurnsConfig::new(3, 3).unwrap()
}

kill_rows! {
    Turns, kill_config(), Checkers::as_check().within(Turns::CHECK_PREEMPTION_BOUND);
    targeted: TurnsVariant::Targeted;
    // notify_all wakes every thread every turn: with spurious wakeups too it is ~130k
    // executions within the bound, twice the targeted version's, so loom proves it without
    // them here (`check` explores them).
    notify_all: TurnsVariant::NotifyAll, loom_without_spurious;
    notify_one: TurnsVariant::NotifyOne;
    if_not_while: TurnsVariant::IfNotWhile, also_without_spurious;
    lost_handoff: TurnsVariant::LostHandoff;
}

/// The targeted version at the notes' three threads. Every interleaving is out of reach
/// beyond a few turns: when the next thread sleeps, the thread that passes the turn lets go
/// of the lock to wake it and takes the lock again while the woken thread takes it too, and
/// loom explores both orders at every such turn (the price of one wakeup per turn: with the
/// waker holding the lock until it sleeps, the woken thread had nothing to race, and paid a
/// second wakeup in production instead). Measured on the shared 2-core machine (release,
/// traces off, one core, load average 5): every interleaving of k=3, n=3 without spurious
/// wakeups is 84,175 executions, 6 s; with up to one, 965,216 executions, 71 s.
#[cfg(any(feature = "deep", loom))]
mod deep {
    use super::*;

    /// k=3, n=3 (each thread prints once), every interleaving with up to one spurious wakeup
    /// anywhere (965k executions, ~70 s): only the strict rotation is reachable.
    #[test]
    fn k3_n3_exhaustive_with_spurious_wakeups() {
        let config = TurnsConfig::new(3, 3).unwrap();
        let loom = LoomConfig::exhaustive().spurious_wakeups(1);
        let report = explore_loom::<Turns>(&config, TurnsVariant::Targeted, &loom);
        assert_proved("turns k=3 n=3 exhaustive spurious<=1", &report);
        assert_eq!(report.outcomes.len(), 1);
    }

    /// Preemption bound of [`notes_preemption_bound`]. Knob: `THREADPROOF_LOOM_PREEMPTIONS`
    /// (default 4; loom's own `LOOM_MAX_PREEMPTIONS` is not read, since the harness sets
    /// bounds explicitly). The cost grows ~12-28x per step, measured on the shared 2-core
    /// machine (release, traces off, one core, load average 5): bound 1: 75 executions; 2:
    /// 2,074; 3: 35,967, 3 s; 4: 452,591, 37 s; 5 would be ~6M executions, ~8 min; 6, ~70M.
    fn notes_preemptions() -> usize {
        match std::env::var("THREADPROOF_LOOM_PREEMPTIONS") {
            Ok(value) => value
                .parse()
                .expect("THREADPROOF_LOOM_PREEMPTIONS is a number of preemptions"),
            Err(_) => 4,
        }
    }

    /// The notes' k=3, n=15, every interleaving with at most 4 preemptions (more with
    /// `THREADPROOF_LOOM_PREEMPTIONS`, see [`notes_preemptions`]). Traces are off: a pass needs
    /// none, and a failure's `replay` command re-runs it with them.
    #[test]
    fn notes_preemption_bound() {
        let config = Turns::notes_config();
        let bound = notes_preemptions();
        let loom = LoomConfig {
            record_traces: false,
            ..LoomConfig::exhaustive().preemption_bound(bound)
        };
        let report = explore_loom::<Turns>(&config, TurnsVariant::Targeted, &loom);
        assert_proved(&format!("turns k=3 n=15 preemption bound {bound}"), &report);
        assert_eq!(report.outcomes.len(), 1);
    }
}
