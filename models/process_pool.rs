//! `process_pool` (the notes' In[8]): the process pool's dispatcher over simulated worker
//! processes, with a worker killed mid-task as an explored choice. The dead worker's task
//! alone fails, every other task completes, and no task runs twice.

use threadproof::explore::{LoomConfig, ShuttleConfig};
use threadproof::process::Death;
use threadproof::scenarios::process_pool::{
    ProcessPoolConfig, ProcessPoolScenario, ProcessPoolVariant,
};
use threadproof::scenarios::{explore_loom, explore_shuttle};

use crate::kill_matrix::{kill_rows, Checkers};
use crate::support::{assert_proved, assert_sampled, one_test_each, pct, random};

/// 2 workers, 2 tasks, and `crash`: whose worker is killed mid-task, if anyone's.
fn two_workers_two_tasks(crash: Option<usize>) -> ProcessPoolConfig {
    let config = ProcessPoolConfig::new(2, 2).unwrap();
    match crash {
        None => config,
        Some(i) => config.with_crash(i, Death::Kill).unwrap(),
    }
}

mod proofs {
    use super::*;

    /// 2 workers, 2 tasks, for each crash choice: nobody dies, or the worker of task 0 or of
    /// task 1 is killed mid-task. Threads: main, dispatcher, 2 workers and a replacement
    /// (loom's 5). Preemption bound 1 keeps it to about a second in a debug build; `mod deep`
    /// runs bound 2.
    #[test]
    fn w2_t2_every_crash_choice_bound_1() {
        for crash in [None, Some(0), Some(1)] {
            let report = explore_loom::<ProcessPoolScenario>(
                &two_workers_two_tasks(crash),
                ProcessPoolVariant::FailsTheTask,
                &LoomConfig::exhaustive().preemption_bound(1),
            );
            assert_proved(&format!("process_pool w=2 t=2 crash={crash:?}"), &report);
            // Both completion orders are reachable.
            assert_eq!(report.outcomes.len(), 2, "{:?}", report.outcomes.keys());
        }
    }
}

/// The notes' size (3 workers, 4 tasks), beyond loom's thread limit, with and without a
/// worker killed or aborted mid-task.
mod sampled {
    use super::*;

    fn process_pool(crash: Option<(usize, Death)>, shuttle: ShuttleConfig) {
        let mut config = ProcessPoolConfig::notes();
        if let Some((i, death)) = crash {
            config = config.with_crash(i, death).unwrap();
        }
        let report = explore_shuttle::<ProcessPoolScenario>(
            &config,
            ProcessPoolVariant::FailsTheTask,
            &shuttle,
        );
        assert_sampled(&format!("process_pool notes crash={crash:?}"), &report);
        assert!(report.outcomes.len() > 1, "{}", report.summary());
    }

    one_test_each! { process_pool:
        notes_random: None, random();
        notes_pct: None, pct();
        notes_task_0_killed_random: Some((0, Death::Kill)), random();
        notes_task_0_killed_pct: Some((0, Death::Kill)), pct();
        notes_task_3_aborted_random: Some((3, Death::Abort)), random();
        notes_task_3_aborted_pct: Some((3, Death::Abort)), pct();
    }
}

/// 2 workers, 3 tasks, the worker of task 1 killed mid-task: both mutants need a death.
fn crashing_pool() -> ProcessPoolConfig {
    ProcessPoolConfig::new(2, 3)
        .unwrap()
        .with_crash(1, Death::Kill)
        .unwrap()
}

kill_rows! {
    ProcessPoolScenario, crashing_pool(), Checkers::bounded();
    fails_the_task: ProcessPoolVariant::FailsTheTask;
    loses_task_on_crash: ProcessPoolVariant::LosesTaskOnCrash;
    reruns_on_crash: ProcessPoolVariant::RerunsOnCrash;
}

/// Preemption bound 2, one test per crash choice (~33k executions without a crash, ~110k with
/// one: about 45 s each in release on a busy 2-core machine).
#[cfg(any(feature = "deep", loom))]
mod deep {
    use super::*;

    fn w2_t2_bound_2(crash: Option<usize>) {
        let report = explore_loom::<ProcessPoolScenario>(
            &two_workers_two_tasks(crash),
            ProcessPoolVariant::FailsTheTask,
            &LoomConfig::exhaustive().preemption_bound(2),
        );
        assert_proved(&format!("process_pool w=2 t=2 crash={crash:?}"), &report);
        assert_eq!(report.outcomes.len(), 2);
    }

    one_test_each! { w2_t2_bound_2:
        w2_t2_no_crash_bound_2: None;
        w2_t2_task_0_killed_bound_2: Some(0);
        w2_t2_task_1_killed_bound_2: Some(1);
    }
}
