//! The words of a failure's trace, at the user's level (issue 17, point 4): a full
//! `sync_channel` says it is full and its capacity, a deadlock says what each blocked thread
//! holds, atomic rows carry the ordering the user gave, a notify says nobody was waiting and an
//! unlock says which guard's drop it was. Each body is plain std code on the mirror, checked by
//! `verdicts!`; the lines asserted are loom's (its failing execution is the minimal one, the
//! same in every run), exactly as `explain()` prints them.

use threadproof::check::{Portfolio, Verdicts};
use threadproof::explore::{CheckerKind, Failure};
use threadproof::std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use threadproof::std::sync::mpsc;
use threadproof::std::sync::{Arc, Condvar, Mutex, RwLock};
use threadproof::std::thread;
use threadproof::sync::trace::Trace;
use threadproof::verdicts;

const FILE: &str = "tests/trace_wording.rs";

/// Loom alone: its failing execution is the one with fewest preemptions, found the same way in
/// every run.
fn loom() -> Portfolio {
    let mut portfolio = Portfolio::with_iterations(1);
    portfolio.shuttle.clear();
    portfolio
}

/// The line of this file that ends with the comment `// <marker>`.
fn line(marker: &str) -> String {
    let end = format!("// {marker}");
    let number = include_str!("trace_wording.rs")
        .lines()
        .position(|l| l.trim_end().ends_with(&end))
        .unwrap_or_else(|| panic!("no line marked {marker}"));
    format!("{FILE}:{}", number + 1)
}

/// Loom's failure, its trace and the whole explanation.
fn loom_failure<O>(verdicts: &Verdicts<O>) -> (&Failure, &Trace, String) {
    let explained = verdicts.explain();
    let report = verdicts.report(CheckerKind::Loom).expect("loom ran");
    let failure = (report.failure.as_ref()).unwrap_or_else(|| panic!("no failure:\n{explained}"));
    let trace = (failure.trace.as_ref()).unwrap_or_else(|| panic!("no trace:\n{explained}"));
    (failure, trace, explained)
}

/// The row texts of `trace` (as the columns print them, before padding).
fn rows(trace: &Trace) -> Vec<String> {
    trace.texts()
}

fn full_channel() {
    let (tx, rx) = mpsc::sync_channel::<u32>(1);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let worker = thread::spawn(move || {
        // Waits for the signal that never comes, holding the receiver.
        let _ = done_rx.recv(); // recv-empty
        drop(rx);
    });
    tx.send(1).unwrap();
    tx.send(2).unwrap(); // send-full
    done_tx.send(()).unwrap();
    worker.join().unwrap();
}

#[test]
fn a_full_sync_channel_says_it_is_full_and_its_capacity() {
    let verdicts = verdicts!(with loom(); full_channel());
    let (_, trace, explained) = loom_failure(&verdicts);
    assert_eq!(
        trace.blocked(),
        [
            format!(
                "main blocked sending into Channel#1 (full, capacity 1) at {}",
                line("send-full")
            ),
            format!(
                "t0 blocked receiving from Channel#2 (empty) at {}",
                line("recv-empty")
            ),
        ],
        "{explained}"
    );
    let rows = rows(trace);
    let send = format!(
        "send Channel#1 (full, capacity 1, blocked) @{}",
        line("send-full")
    );
    assert!(rows.contains(&send), "{explained}");
    let recv = format!("recv Channel#2 (empty, blocked) @{}", line("recv-empty"));
    assert!(rows.contains(&recv), "{explained}");
    for line in trace.blocked() {
        assert!(explained.contains(&format!("\n  {line}\n")), "{explained}");
    }
}

fn read_then_write() {
    let lock = Arc::new(RwLock::new(0));
    let other = Arc::clone(&lock);
    let writer = thread::spawn(move || {
        *other.write().unwrap() += 1; // t0-write
    });
    let read = lock.read().unwrap(); // main-read
    let write = lock.write().unwrap(); // main-write
    drop((read, write));
    writer.join().unwrap();
}

#[test]
fn a_deadlock_says_what_each_blocked_thread_holds() {
    let verdicts = verdicts!(with loom(); read_then_write());
    let (_, trace, explained) = loom_failure(&verdicts);
    let main_write = line("main-write");
    let (_, main_write_line) = main_write.rsplit_once(':').unwrap();
    assert_eq!(
        trace.blocked(),
        [
            format!(
                "main holds a read guard of RwLock#1 from {} and waits to write it at \
                 :{main_write_line}",
                line("main-read")
            ),
            format!(
                "t0 waits to write RwLock#1 at {}, read-locked by main",
                line("t0-write")
            ),
        ],
        "{explained}"
    );
    for line in trace.blocked() {
        assert!(explained.contains(&format!("\n  {line}\n")), "{explained}");
    }
}

fn lock_twice() {
    let lock = Mutex::new(0);
    let first = lock.lock().unwrap(); // lock-first
    drop(first);
    let second = lock.lock().unwrap(); // lock-second
    let third = lock.lock().unwrap(); // lock-third
    drop((second, third));
}

/// The guard dropped is the first one: the unlock says it is that guard's, and what main still
/// holds is the second.
#[test]
fn an_unlock_names_the_guard_it_dropped_and_a_mutex_hold_is_the_one_not_dropped() {
    let verdicts = verdicts!(with loom(); lock_twice());
    let (_, trace, explained) = loom_failure(&verdicts);
    let rows = rows(trace);
    let unlock = format!(
        "unlock Mutex#1 (guard from @{} dropped)",
        line("lock-first")
    );
    assert!(rows.contains(&unlock), "{explained}");
    let third = line("lock-third");
    let (_, third_line) = third.rsplit_once(':').unwrap();
    assert_eq!(
        trace.blocked(),
        [format!(
            "main holds Mutex#1 from {} and waits to lock it at :{third_line}",
            line("lock-second")
        )],
        "{explained}"
    );
}

fn relaxed_publication() -> usize {
    let data = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(AtomicBool::new(false));
    // Each thread's first use of a mirror object is ordered after the object's making (an
    // acquire-release step under loom, see `threadproof::std`): main makes both here, before
    // the race, so that its reads below are ordered after nothing of the writer's.
    let _ = (data.load(Ordering::Relaxed), ready.load(Ordering::Relaxed));
    let (data2, ready2) = (Arc::clone(&data), Arc::clone(&ready));
    let writer = thread::spawn(move || {
        let _ = data2.compare_exchange(0, 40, Ordering::AcqRel, Ordering::Acquire); // cas
        data2.fetch_add(2, Ordering::Release); // fetch-release
        ready2.store(true, Ordering::Relaxed); // store-relaxed
    });
    let published = ready.load(Ordering::Acquire); // load-acquire
    let seen = if published {
        data.load(Ordering::Relaxed) // load-relaxed
    } else {
        42
    };
    writer.join().unwrap();
    seen
}

#[test]
fn atomic_rows_show_the_ordering_the_call_was_given() {
    let verdicts = verdicts!(with loom(); relaxed_publication(), |seen: &usize| *seen == 42);
    let (failure, trace, explained) = loom_failure(&verdicts);
    assert!(
        failure.message.starts_with("the invariant does not hold"),
        "{explained}"
    );
    let rows = rows(trace);
    for row in [
        format!(
            "compare_exchange AtomicUsize#1 0 → 40 ok (AcqRel/Acquire) @{}",
            line("cas")
        ),
        format!(
            "fetch_add AtomicUsize#1 40 → 42 (Release) @{}",
            line("fetch-release")
        ),
        format!(
            "store AtomicBool#1 ← true (Relaxed) @{}",
            line("store-relaxed")
        ),
        format!(
            "load AtomicBool#1 → true (Acquire) @{}",
            line("load-acquire")
        ),
    ] {
        assert!(rows.contains(&row), "no row {row:?} in:\n{explained}");
    }
    // The stale read the Relaxed store allows (0 or 40: loom's choice), with its ordering.
    let stale = format!(" (Relaxed) @{}", line("load-relaxed"));
    assert!(
        rows.iter()
            .any(|r| r.starts_with("load AtomicUsize#1 → ") && r.ends_with(&stale)),
        "{explained}"
    );
    // The `Arc` counts are std's bookkeeping, with std's orderings, not the user's: no ordering.
    assert!(
        rows.iter()
            .any(|r| r.starts_with("fetch_add Arc#1.strong 1 → 2 @")),
        "{explained}"
    );
}

fn lost_wakeup() {
    let pair = Arc::new((Mutex::new(()), Condvar::new()));
    let other = Arc::clone(&pair);
    let notifier = thread::spawn(move || {
        other.1.notify_one(); // notify
    });
    notifier.join().unwrap();
    let guard = pair.0.lock().unwrap();
    let _guard = pair.1.wait(guard).unwrap(); // wait
}

#[test]
fn a_notify_with_nobody_waiting_says_so_and_the_wait_never_ends() {
    let verdicts = verdicts!(with loom(); lost_wakeup());
    let (_, trace, explained) = loom_failure(&verdicts);
    let rows = rows(trace);
    let notify = format!("notify_one Condvar#1, nobody waiting @{}", line("notify"));
    assert!(rows.contains(&notify), "{explained}");
    // Waiting, main holds nothing: the wait gave the mutex back.
    assert_eq!(
        trace.blocked(),
        [format!(
            "main waits on Condvar#1 at {} for a notification that never comes",
            line("wait")
        )],
        "{explained}"
    );
}
