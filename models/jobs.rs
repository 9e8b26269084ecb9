//! Shuttle's schedules spread over worker threads (`ShuttleConfig::jobs`,
//! `Portfolio::with_jobs`): the report is the same for any number of workers.
//!
//! Invariant: one body under one scheduler gives, with 1 worker and with 4, the same verdict,
//! executions, outcome counts, coverage, failure (its execution number and message) and replay
//! token, and the token replays that failure; a failure only a late schedule finds is reported
//! at that schedule's index, not at whichever a worker reached first.

use std::collections::BTreeMap;

use threadproof::check::{Portfolio, Verdicts};
use threadproof::explore::{CheckerKind, Report};
use threadproof::std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use threadproof::std::sync::Arc;
use threadproof::std::thread;
use threadproof::{replay, verdicts};

/// What must not depend on the number of workers, per row.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    kind: CheckerKind,
    passed: bool,
    executions: u64,
    outcomes: BTreeMap<usize, u64>,
    coverage: String,
    failure: Option<(u64, String, String)>,
}

fn seen(verdicts: &Verdicts<usize>) -> Vec<Seen> {
    (verdicts.reports.iter())
        .map(|(kind, report): &(CheckerKind, Report<usize>)| Seen {
            kind: *kind,
            passed: report.passed(),
            executions: report.executions,
            outcomes: report.outcomes.clone(),
            coverage: format!("{:?}", report.coverage),
            failure: (report.failure.as_ref())
                .map(|f| (f.execution, f.message.clone(), f.replay.to_string())),
        })
        .collect()
}

/// Shuttle's three schedulers, `iterations` schedules each, on `jobs` workers.
fn shuttle(iterations: usize, jobs: usize) -> Portfolio {
    Portfolio::with_iterations(iterations)
        .without_loom()
        .with_jobs(jobs)
}

/// Two threads add one to a counter with a load and a separate store: an update can be lost.
fn lost_update() -> usize {
    let counter = Arc::new(AtomicUsize::new(0));
    let other = Arc::clone(&counter);
    let worker = thread::spawn(move || {
        let seen = other.load(SeqCst);
        other.store(seen + 1, SeqCst);
    });
    let seen = counter.load(SeqCst);
    counter.store(seen + 1, SeqCst);
    worker.join().unwrap();
    counter.load(SeqCst)
}

/// The same with `fetch_add`: never lost; both orders of the two adds, one outcome.
fn counted() -> usize {
    let counter = Arc::new(AtomicUsize::new(0));
    let other = Arc::clone(&counter);
    let worker = thread::spawn(move || other.fetch_add(1, SeqCst));
    let first = counter.fetch_add(1, SeqCst);
    let theirs = worker.join().unwrap();
    counter.load(SeqCst) * 10 + first.min(theirs)
}

/// A value one schedule in `n` draws, after a spawn: a failure late schedules find.
fn rare(n: usize) -> usize {
    let worker = thread::spawn(move || threadproof::std::choose(n));
    worker.join().unwrap()
}

#[test]
fn a_failing_body_gives_the_same_report_for_1_and_4_workers() {
    let body = || verdicts!(with shuttle(300, 1); lost_update(), |n| *n == 2);
    let one = body();
    let four = verdicts!(with shuttle(300, 4); lost_update(), |n| *n == 2);
    assert_eq!(seen(&one), seen(&four));
    assert_eq!(one.reports.len(), 3, "random, PCT and URW");
    for (kind, report) in &four.reports {
        let failure = report
            .failure
            .as_ref()
            .unwrap_or_else(|| panic!("{kind}: no failure"));
        assert_eq!(report.executions, failure.execution, "{kind}");
        let token = failure.replay.to_string();
        let replayed = replay!(&token, lost_update(), |n| *n == 2);
        let again = replayed.failure.expect("the token replays the failure");
        assert_eq!(again.message, failure.message, "{kind}: {token}");
    }
}

#[test]
fn a_passing_body_gives_the_same_report_for_1_and_4_workers() {
    let one = verdicts!(with shuttle(300, 1); counted(), |n| *n / 10 == 2);
    let four = verdicts!(with shuttle(300, 4); counted(), |n| *n / 10 == 2);
    assert_eq!(seen(&one), seen(&four));
    for (kind, report) in &four.reports {
        assert!(report.passed(), "{kind}: {}", report.summary());
        assert_eq!(report.executions, 300, "{kind}: every schedule ran once");
        assert_eq!(report.outcomes.values().sum::<u64>(), 300, "{kind}");
    }
}

#[test]
fn a_failure_only_a_late_schedule_finds_is_reported_at_its_index() {
    // One schedule in 400 draws 7: the first that does is well past the first chunk of
    // schedules, and four workers run the chunks after it too.
    let late = |jobs| verdicts!(with shuttle(2_000, jobs); rare(400), |n| *n != 7);
    let (one, four) = (late(1), late(4));
    assert_eq!(seen(&one), seen(&four));
    for (kind, report) in &four.reports {
        let failure = report
            .failure
            .as_ref()
            .unwrap_or_else(|| panic!("{kind}: no failure"));
        assert!(
            failure.execution > 64,
            "{kind}: found at {}, not a late schedule",
            failure.execution
        );
        assert_eq!(report.executions, failure.execution, "{kind}");
        assert_eq!(
            report.outcomes.values().sum::<u64>(),
            failure.execution,
            "{kind}: the outcomes of the schedules up to the failure, no others"
        );
        let token = failure.replay.to_string();
        let replayed = replay!(&token, rare(400), |n| *n != 7);
        assert_eq!(
            replayed.failure.map(|f| f.message),
            Some(failure.message.clone())
        );
    }
}

/// A check inside a loom walk's body: its rows run on threads of their own, its loom row
/// within the outer walk's turn, so it does not wait for the walk that waits for it. (Mutant
/// caught: the rows do not carry the turn, and the outer walk is reported blocked outside
/// the checker at the stall limit.)
#[test]
fn a_check_inside_a_loom_walk_s_body_does_not_wait_for_it() {
    use threadproof::check::check;
    use threadproof::explore::{loom, LoomConfig};
    use threadproof::sync::{Loom, Shuttle};
    let loom_only = Portfolio {
        shuttle: Vec::new(),
        ..Portfolio::standard()
    };
    let body = move || {
        let inner = check(&loom_only, sent::<Loom>, sent::<Shuttle>, |v| *v == 1);
        (inner.passed(), sent::<Loom>())
    };
    let outer = loom::explore(&LoomConfig::exhaustive(), body, |&(inner, sent)| {
        match inner && sent == 1 {
            true => Ok(()),
            false => Err(format!("inner check passed: {inner}, sent {sent}")),
        }
    });
    assert!(outer.passed(), "{}", outer.summary());
}

/// One message from a spawned thread, over `P`'s channel.
fn sent<P: threadproof::sync::Primitives>() -> u32 {
    let (tx, rx) = threadproof::sync::channel::<P, u32>();
    let sender = threadproof::sync::Builder::<P>::new()
        .spawn(move || tx.send(1).unwrap())
        .unwrap();
    let got = rx.recv().unwrap();
    sender.join().unwrap();
    got
}

/// A `check!` inside a `check!`'s body (both on `threadproof::std`): when the inner check
/// returns, the body goes on under the outer check's checker, and the outer check sees what
/// it does after. (Mutant caught: the inner check leaves the body's thread on plain std, and
/// the outer exploration then sees no model operation after it.)
#[test]
fn a_check_inside_a_check_s_body_leaves_the_body_on_the_outer_checker() {
    use threadproof::check::check_once;
    let loom_only = || Portfolio {
        shuttle: Vec::new(),
        ..Portfolio::standard()
    };
    let body = move || {
        let inner = check_once(&loom_only(), mirror_sent, |v| *v == 1);
        (inner.passed(), mirror_sent())
    };
    let outer = check_once(&loom_only(), body, |&(inner, sent)| inner && sent == 1);
    let loom = outer.report(CheckerKind::Loom).expect("loom ran");
    assert!(outer.passed(), "{}", outer.explain());
    // The outer walk saw the send and receive after the inner check, so it interleaved them.
    assert!(loom.executions > 1, "{}", outer.explain());
}

/// One message from a spawned thread, over `threadproof::std`'s channel.
fn mirror_sent() -> u32 {
    let (tx, rx) = threadproof::std::sync::mpsc::channel::<u32>();
    let sender = thread::spawn(move || tx.send(1).unwrap());
    let got = rx.recv().unwrap();
    sender.join().unwrap();
    got
}
