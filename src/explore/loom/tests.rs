//! The loom exploration's own tests: what starting again reports and charges, and that walks
//! take turns ([`crate::explore::alone`]).

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use super::*;

/// Two `threadproof::std` atomics first used after the spawn, by both threads: one made
/// at zero (then one made before any thread serves), one not (its first uses are then
/// ordered after its making). The first execution finds the exploration needs both, and
/// it starts again with them. What it reports is what an exploration with the ordering
/// atomics from the start reports: the starts it abandoned are not counted, but said, and
/// charged to the budget. (Mutants caught: counting them; making the zero atomic where it
/// is first used, unordered, which loom reports as a causality violation; a fresh budget
/// for each pass.)
#[test]
fn a_restart_for_the_mirror_s_atomics_reports_as_if_they_were_on_from_the_start() {
    fn body() -> u32 {
        // Relaxed: SeqCst's fences would order the threads anyway.
        use crate::std::sync::atomic::{AtomicU32, Ordering::Relaxed};
        use crate::std::sync::Arc;
        let (zero, five) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(5)));
        let worker = {
            let (zero, five) = (Arc::clone(&zero), Arc::clone(&five));
            crate::std::thread::spawn(move || {
                zero.fetch_add(1, Relaxed);
                five.fetch_add(1, Relaxed);
            })
        };
        zero.fetch_add(2, Relaxed);
        five.fetch_add(2, Relaxed);
        worker.join().unwrap();
        zero.load(Relaxed) + five.load(Relaxed)
    }
    let config = LoomConfig::default();
    let learned = explore(&config, body, |total| {
        (*total == 11).then_some(()).ok_or(format!("{total}"))
    });
    let from_start = explore_from(
        &config,
        body,
        |total| (*total == 11).then_some(()).ok_or(format!("{total}")),
        true,
    );
    assert!(learned.passed(), "{}", learned.summary());
    assert!(from_start.passed(), "{}", from_start.summary());
    assert!(learned.executions > 1, "{}", learned.summary());
    assert_eq!(learned.executions, from_start.executions);
    assert_eq!(learned.outcomes, from_start.outcomes);
    assert!(!crate::std::rt::take_mirror_restart());
    // The passes that started again are said, apart from the executions counted.
    let restarts = learned
        .restarts
        .expect("the mirror's atomics started it again");
    assert!(restarts.times >= 1 && restarts.executions >= restarts.times);
    let said = format!("after {} executions not counted", restarts.executions);
    assert!(learned.summary().contains(&said), "{}", learned.summary());

    // And they are charged to the budget: one execution is left for the last pass.
    let config = LoomConfig {
        budget: Budget::executions(restarts.executions + 1),
        ..LoomConfig::default()
    };
    let charged = explore(&config, body, |_| Ok(()));
    assert_eq!(charged.restarts, Some(restarts), "{}", charged.summary());
    assert_eq!(charged.executions, 1, "{}", charged.summary());
    assert_eq!(charged.coverage, Coverage::BudgetExhausted);
}

/// Executions of [`counted`] running now, and the most ever at once.
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static MOST: AtomicUsize = AtomicUsize::new(0);

/// One execution of [`counted`], counted out when it ends, unwinding included.
struct Running;

impl Running {
    fn start() -> Running {
        MOST.fetch_max(RUNNING.fetch_add(1, SeqCst) + 1, SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, SeqCst);
    }
}

/// `threads` spawned threads' increments of one total, under one lock.
fn increments(threads: usize) -> u32 {
    use crate::std::sync::{Arc, Mutex};
    let total = Arc::new(Mutex::new(0));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let total = Arc::clone(&total);
            crate::std::thread::spawn(move || *total.lock().unwrap() += 1)
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let total = *total.lock().unwrap();
    total
}

/// Three threads' increments, counted: a walk long enough (hundreds of executions) to
/// overlap another's if both ran at once.
fn counted() -> u32 {
    let _running = Running::start();
    increments(3)
}

fn totals(expected: u32) -> impl Fn(&u32) -> Result<(), String> + Send + Sync + 'static {
    move |total| (*total == expected).then_some(()).ok_or(format!("{total}"))
}

/// Walks started at once on four threads take turns: no two executions of theirs ever
/// overlap. (Mutant caught: no turn, and the walks overlap.)
#[test]
fn loom_walks_started_at_once_take_turns() {
    let start = std::sync::Arc::new(std::sync::Barrier::new(4));
    let walks: Vec<_> = (0..4)
        .map(|_| {
            let start = std::sync::Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                explore(&LoomConfig::exhaustive(), counted, totals(3))
            })
        })
        .collect();
    for walk in walks {
        let report = walk.join().unwrap();
        assert!(
            report.passed() && report.executions > 100,
            "{}",
            report.summary()
        );
    }
    assert_eq!(MOST.load(SeqCst), 1, "two loom walks ran at once");
}

/// A walk started inside another walk's body does not wait for the outer one's turn to
/// end, which would wait for it: both pass. (Mutant caught: every walk waits, and the outer
/// walk is reported blocked outside the checker at the stall limit.)
#[test]
fn a_walk_inside_a_walk_s_body_does_not_wait_for_it() {
    // The outer body's own counter gives its walk something to see.
    let body = || {
        let inner = explore(&LoomConfig::exhaustive(), || increments(2), totals(2));
        (inner.passed() && inner.executions > 1, increments(2))
    };
    let outer = explore(&LoomConfig::exhaustive(), body, |&(inner, total)| {
        match inner && total == 2 {
            true => Ok(()),
            false => Err(format!("inner passed: {inner}, total {total}")),
        }
    });
    assert!(outer.passed(), "{}", outer.summary());
}

/// A walk on one of shuttle's workers, in a shuttle exploration inside a walk's body, does
/// not wait for the outer walk either: the workers carry its turn. 128 schedules are two
/// chunks, so two workers run them and the explorer thread none. (Mutant caught: the workers
/// do not carry the turn, and the outer walk is reported blocked outside the checker at the
/// stall limit.)
#[test]
fn a_walk_on_a_shuttle_worker_inside_a_walk_s_body_does_not_wait_for_it() {
    use crate::explore::shuttle::{self, ShuttleConfig};
    let on_workers = || {
        let config = ShuttleConfig {
            jobs: 2,
            ..ShuttleConfig::random(128)
        };
        let schedule = || {
            // Else the explorer thread ran it, and the test would not show what it claims.
            let worker = std::thread::current().name().map(str::to_owned);
            let on_worker = worker.is_some_and(|w| w.starts_with("threadproof-explorer-"));
            let walk = explore(&LoomConfig::exhaustive(), || increments(1), totals(1));
            (on_worker, walk.passed(), increments(0))
        };
        let inner = shuttle::explore(&config, schedule, |&(on_worker, walked, _)| {
            match (on_worker, walked) {
                (true, true) => Ok(()),
                (false, _) => Err("a schedule ran off shuttle's workers".into()),
                (true, false) => Err("a walk on a worker did not pass".into()),
            }
        });
        (inner.passed() && inner.executions == 128, increments(0))
    };
    let outer = explore(
        &LoomConfig::exhaustive(),
        on_workers,
        |&(inner, _)| match inner {
            true => Ok(()),
            false => Err("the shuttle exploration did not pass".into()),
        },
    );
    assert!(outer.passed(), "{}", outer.summary());
}
