//! The shuttle schedulers' fairness to the threads they drive (issue 20, E.20): PCT gives a
//! just-spawned thread its fair chance of running before its spawner's next step, at every
//! depth.
//!
//! Invariant: each test states what PCT must reach; a PCT that demotes a new thread before its
//! first step (shuttle's change points fall on the first steps of a small body) fails it.

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use threadproof::explore::{shuttle, FailureKind, ShuttleConfig};
use threadproof::sync::{spawn, AtomicUsize, Mutex, Primitives, Shuttle};

/// Main holds `m` and spawns a thread that raises a flag, then takes `m`. Main joins it still
/// holding `m` if it saw the flag: a deadlock only if the thread ran before main's next step.
fn joins_holding_the_lock_if_flagged<P: Primitives>() {
    let m = Arc::new(Mutex::<P, ()>::new(()));
    let flag = Arc::new(AtomicUsize::<P>::new(0));
    let held = m.lock();
    let (tm, raised) = (Arc::clone(&m), Arc::clone(&flag));
    let thread = spawn::<P, _, _>("flagger", move || {
        raised.store(1, SeqCst);
        drop(tm.lock());
    })
    .unwrap();
    if flag.load(SeqCst) == 0 {
        drop(held);
        thread.join().unwrap();
    } else {
        thread.join().unwrap();
        drop(held);
    }
}

/// At every depth, about half of PCT's schedules (each thread's priority is a coin here) run
/// the writer first; before the fix, depth 2 and up did in 1 of 100.
#[test]
fn pct_runs_a_spawned_thread_before_its_spawner_at_every_depth() {
    for depth in 1..=4 {
        let config = ShuttleConfig::pct(depth, 100);
        let report = shuttle::explore(
            &config,
            crate::support::writer_reader::<Shuttle>,
            |_| Ok(()),
        );
        let first = report.outcomes.get(&1).copied().unwrap_or(0);
        assert!(
            (25..=75).contains(&first),
            "depth {depth}: the writer ran first in {first} of 100: {:?}",
            report.outcomes
        );
    }
}

/// The deadlock that needs the spawned thread's first step before main's next: PCT at depth 3
/// finds it (before the fix it passed, as depth 2 did not).
#[test]
fn pct_depth_3_finds_a_deadlock_that_needs_the_spawned_thread_first() {
    for depth in [2, 3] {
        let config = ShuttleConfig::pct(depth, 100);
        let report = shuttle::explore(
            &config,
            joins_holding_the_lock_if_flagged::<Shuttle>,
            |_| Ok(()),
        );
        assert_eq!(
            report.failure_kind(),
            Some(FailureKind::Deadlock),
            "depth {depth}: {}",
            report.summary()
        );
    }
}

/// The loom row of a body whose `try_lock` may fail: loom does not reach every failure of it,
/// so the row's label says its outcome set is incomplete (issue 20, E.19); it said
/// "exhaustive", qualified only by the "cannot see" line.
#[test]
fn a_loom_row_with_a_try_lock_is_not_labelled_exhaustive() {
    use threadproof::explore::{loom, Coverage, LoomConfig};
    use threadproof::sync::Loom;
    let try_lock = || {
        let mutex = Arc::new(Mutex::<Loom, ()>::new(()));
        let held = Arc::clone(&mutex);
        let holder = spawn::<Loom, _, _>("holder", move || drop(held.lock())).unwrap();
        let got = mutex.try_lock().is_some();
        holder.join().unwrap();
        got
    };
    let report = loom::explore(&LoomConfig::exhaustive(), try_lock, |_| Ok(()));
    assert_eq!(
        report.coverage,
        Coverage::Exhaustive,
        "{}",
        report.summary()
    );
    assert_eq!(
        report.coverage_words(),
        "exhaustive except failing try_locks"
    );
    let summary = report.summary();
    assert!(
        summary.contains("exhaustive except failing try_locks"),
        "{summary}"
    );
    // A body without a try_lock keeps its plain label.
    let report = loom::explore(
        &LoomConfig::exhaustive(),
        crate::support::writer_reader::<Loom>,
        |_| Ok(()),
    );
    assert_eq!(
        report.coverage_words(),
        "exhaustive",
        "{}",
        report.summary()
    );
}

/// E.18: a worker loops on `wait_timeout` until main raises a flag (`broken`: main never does,
/// and the worker gives up after 3 timeouts, a real timeout bug).
fn waits_for_main<P: Primitives>(broken: bool) -> usize {
    use std::time::Duration;
    use threadproof::sync::Condvar;
    let pair = Arc::new((Mutex::<P, bool>::new(false), Condvar::<P>::new()));
    let theirs = Arc::clone(&pair);
    let worker = spawn::<P, _, _>("worker", move || {
        let (flag, ready) = &*theirs;
        let mut raised = flag.lock();
        let mut timeouts = 0;
        while !*raised {
            let (guard, result) = ready.wait_timeout(raised, Duration::from_millis(10));
            raised = guard;
            if result.timed_out() {
                timeouts += 1;
                if broken && timeouts == 3 {
                    return timeouts;
                }
            }
        }
        timeouts
    })
    .unwrap();
    if !broken {
        *pair.0.lock() = true;
        pair.1.notify_all();
    }
    worker.join().unwrap()
}

/// Under every shuttle scheduler the loop ends within the normal budget (PCT starved
/// main to the step limit), and the broken version's timeout is still found.
#[test]
fn a_worker_looping_on_wait_timeout_does_not_starve_main() {
    use threadproof::explore::Coverage;
    let never_gave_up = |timeouts: &usize| match *timeouts < 3 {
        true => Ok(()),
        false => Err(format!("the worker gave up after {timeouts} timeouts")),
    };
    for config in [
        ShuttleConfig::pct(3, 1000),
        ShuttleConfig::random(1000),
        ShuttleConfig::urw(1000),
    ] {
        let report = shuttle::explore(&config, || waits_for_main::<Shuttle>(false), |_| Ok(()));
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.coverage, Coverage::Sampled, "{}", report.summary());
        let report = shuttle::explore(&config, || waits_for_main::<Shuttle>(true), never_gave_up);
        assert_eq!(
            report.failure_kind(),
            Some(FailureKind::InvariantViolated),
            "{}",
            report.summary()
        );
    }
}
