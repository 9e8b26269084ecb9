//! Lock poisoning through the std mirror under every checker, loom included: a panic under a
//! `Mutex` guard poisons it, later `lock`s return `Err(PoisonError)` as std's do, and the lock
//! still works (loom's own mutex, poisoned inside, is renewed for the next `lock`). The one case
//! loom cannot take, a thread already waiting for the lock at the panic, is named in the report.
//! A `Once` whose closure panicked is poisoned too, as std's is.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::PoisonError;

use threadproof::check::Portfolio;
use threadproof::explore::{CheckerKind, FailureKind};
use threadproof::std::sync::{Arc, Condvar, Mutex};
use threadproof::std::thread;
use threadproof::{check, verdicts};

/// Every checker, few shuttle schedules: the bodies are small.
fn portfolio() -> Portfolio {
    Portfolio::with_iterations(300)
}

/// A panic under the guard poisons; `into_inner` of the error and `clear_poison` as std's.
fn poison_and_recover() -> (bool, bool, i32, bool) {
    let lock = Arc::new(Mutex::new(1));
    let held = Arc::clone(&lock);
    let caught = catch_unwind(AssertUnwindSafe(move || {
        let mut guard = held.lock().unwrap();
        *guard = 2;
        panic!("under the guard");
    }));
    let poisoned = lock.is_poisoned();
    let seen = match lock.lock() {
        Ok(guard) => *guard,
        Err(poison) => *poison.into_inner() + 100,
    };
    lock.clear_poison();
    let cleared = lock.lock().is_ok();
    (caught.is_err(), poisoned, seen, cleared)
}

#[test]
fn a_panic_under_the_guard_poisons_the_mutex_under_every_checker_loom_included() {
    let expected = (true, true, 102, true);
    let verdicts = check!(with portfolio(); poison_and_recover(), move |o| *o == expected);
    assert!(verdicts.report(CheckerKind::Loom).is_some(), "loom ran");
    assert!(verdicts.reports.iter().all(|(_, r)| r.executions > 0));
    // And outside any checker: std's behaviour.
    assert_eq!(poison_and_recover(), expected);
}

/// A worker panics under the lock (and catches it); then a producer hands a value to the main
/// thread through the poisoned mutex and a condvar, each side taking the data out of the
/// `PoisonError`. `buggy`: the consumer waits once (`if`), not until the value is there.
fn handover_after_poison(buggy: bool) -> (bool, u32) {
    let shared = Arc::new((Mutex::new(None::<u32>), Condvar::new()));
    let crasher = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                let _guard = shared.0.lock().unwrap();
                panic!("under the guard");
            }));
        })
    };
    crasher.join().unwrap();
    let producer = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            let (slot, ready) = &*shared;
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(7);
            ready.notify_one();
        })
    };
    let (slot, ready) = &*shared;
    let mut value = slot.lock().unwrap_or_else(PoisonError::into_inner);
    if buggy {
        // MUTANT if-not-while: one wait, whatever woke it.
        if value.is_none() {
            value = ready.wait(value).unwrap_or_else(PoisonError::into_inner);
        }
    } else {
        while value.is_none() {
            value = ready.wait(value).unwrap_or_else(PoisonError::into_inner);
        }
    }
    let got = value.unwrap_or(0);
    drop(value);
    producer.join().unwrap();
    (slot.is_poisoned(), got)
}

#[test]
fn a_poisoned_mutex_still_hands_over_through_a_condvar_and_if_not_while_is_caught() {
    let handed = |o: &(bool, u32)| *o == (true, 7);
    let verdicts = check!(with portfolio(); handover_after_poison(false), handed);
    let loom = verdicts.report(CheckerKind::Loom).expect("loom ran");
    assert!(loom.executions > 1, "loom explored one order only");
    let caught = verdicts!(with portfolio(); handover_after_poison(true), handed);
    let loom = caught.report(CheckerKind::Loom).expect("loom ran");
    let failure = loom.failure.as_ref().expect("loom catches the mutant");
    assert_eq!(
        failure.kind,
        FailureKind::InvariantViolated,
        "{}",
        caught.explain()
    );
}

/// A thread already waiting for the lock when another panics under its guard: loom's own lock
/// is poisoned for it, and loom panics inside its `lock`. That is not the body's failure: the
/// loom row is `not run`, and says why and where. (Mutant caught: that panic reported as the
/// body's failure, as before: "FAILED: panic ... PoisonError".)
#[test]
fn a_thread_waiting_at_the_panic_is_a_limit_loom_names() {
    let locked_at = line!() + 6;
    let verdicts = verdicts!(with portfolio(); {
        let lock = Arc::new(Mutex::new(1));
        let held = Arc::clone(&lock);
        let crasher = thread::spawn(move || {
            let caught = catch_unwind(AssertUnwindSafe(|| {
                let _guard = held.lock().unwrap();
                panic!("under the guard");
            }));
            caught.is_err()
        });
        let poisoned = lock.lock().is_err();
        (crasher.join().unwrap(), poisoned)
    }, |o| o.0);
    let loom = verdicts.report(CheckerKind::Loom).expect("a loom row");
    assert!(loom.failure.is_none(), "{}", verdicts.explain());
    let why = loom
        .unsupported()
        .expect("loom says it could not run the body");
    assert!(
        why.reason
            .starts_with("unsupported by loom: a Mutex guard dropped while a panic unwound"),
        "{why}"
    );
    let detail = why.detail.as_deref().unwrap_or_default();
    assert!(
        detail.contains(&format!("mirror_poison.rs:{locked_at}")),
        "{why}"
    );
    // Shuttle has no such limit: both orders pass there.
    for (kind, report) in &verdicts.reports {
        if *kind != CheckerKind::Loom {
            assert!(report.failure.is_none(), "{}", verdicts.explain());
        }
    }
}

/// A `Once` whose closure panicked, then used by another thread: its `call_once` refused, its
/// `call_once_force` run and told. Written once over the modules named, std's or the mirror's.
macro_rules! once_after_a_panic {
    ($sync:ident, $thread:path, spawn_first = $spawn_first:expr) => {{
        use $sync::{Arc, Once};
        use $thread as thread;
        let once = Arc::new(Once::new());
        let other = Arc::clone(&once);
        let mut use_it = Some(move || {
            let refused = catch_unwind(AssertUnwindSafe(|| other.call_once(|| {}))).is_err();
            let mut told = None;
            other.call_once_force(|state| told = Some(state.is_poisoned()));
            (refused, told)
        });
        let mut spawn = || thread::spawn(use_it.take().expect("spawned once"));
        let early = if $spawn_first { Some(spawn()) } else { None };
        let first = catch_unwind(AssertUnwindSafe(|| once.call_once(|| panic!("first"))));
        let user = match early {
            Some(user) => user,
            None => spawn(),
        };
        let (refused, told) = user.join().unwrap();
        (first.is_err(), refused, told, once.is_completed())
    }};
}

/// std's `Once` is poisoned by a panicking closure: `call_once` then panics, and
/// `call_once_force` runs, told. The mirror's is too, under every checker, and each checker
/// reaches exactly the two outcomes of the closures' two orders. (Mutant caught: the mirror's
/// `Once` before, which ran the next `call_once` as if nothing had happened:
/// `(true, false, None, true)`.)
#[test]
fn a_once_whose_closure_panicked_is_poisoned_as_std_s() {
    use std::sync as std_sync;
    use threadproof::std::sync as mirror_sync;
    let std_says = once_after_a_panic!(std_sync, std::thread, spawn_first = false);
    assert_eq!(std_says, (true, true, Some(true), true));
    let verdicts = check!(with portfolio(); {
        once_after_a_panic!(mirror_sync, threadproof::std::thread, spawn_first = false)
    }, move |outcome| *outcome == std_says);
    assert!(verdicts.reports.iter().all(|(_, r)| r.executions > 0));
    let raced = check!(with portfolio(); {
        once_after_a_panic!(mirror_sync, threadproof::std::thread, spawn_first = true)
    });
    let either = [(false, false, None, true), (true, true, Some(true), true)];
    for (kind, report) in &raced.reports {
        let reached: Vec<_> = report.outcomes.keys().copied().collect();
        assert_eq!(reached, either, "{kind}: {}", raced.explain());
    }
}

/// The unwind-safety std gives its locks, channel ends and thread handles, on the mirror's:
/// code that catches a panic around a `&Mutex` without `AssertUnwindSafe` compiles after the
/// swap as before it. (Mutant caught: without the impls this file does not compile.)
#[test]
fn a_body_catching_a_panic_around_a_lock_needs_no_assert_unwind_safe() {
    use std::panic::{RefUnwindSafe, UnwindSafe};
    use threadproof::std::sync::{mpsc, RwLock};
    fn as_std<T: UnwindSafe + RefUnwindSafe + ?Sized>() {}
    as_std::<Mutex<Vec<u8>>>();
    as_std::<RwLock<Vec<u8>>>();
    as_std::<Arc<Mutex<u8>>>();
    as_std::<mpsc::Sender<u8>>();
    as_std::<mpsc::SyncSender<u8>>();
    as_std::<mpsc::Receiver<u8>>();
    as_std::<thread::Thread>();
    check!(with portfolio(); {
        let lock = Mutex::new(1);
        let caught = catch_unwind(|| {
            let _guard = lock.lock().unwrap();
            panic!("under the guard");
        });
        (caught.is_err(), lock.is_poisoned())
    }, |outcome| *outcome == (true, true));
}

/// A body's own `unwrap` of a lock it poisoned is the body's failure under every checker, loom
/// included: only loom's own lock panicking inside loom is loom's limit. (Mutant caught: that
/// limit told by the message alone, as first written: every row then said "unsupported by
/// loom", a failure std has passed over as not run.)
#[test]
fn a_body_s_own_unwrap_of_a_poisoned_lock_is_its_failure_under_every_checker() {
    let verdicts = verdicts!(with portfolio(); {
        let lock = Arc::new(Mutex::new(0));
        let other = Arc::clone(&lock);
        let worker = thread::spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                let _guard = other.lock().unwrap();
                panic!("under the guard");
            }));
        });
        worker.join().unwrap();
        let value = *lock.lock().unwrap();
        value
    });
    for (kind, report) in &verdicts.reports {
        assert!(
            report.unsupported().is_none(),
            "{kind}: {}",
            verdicts.explain()
        );
        let failure = report.failure.as_ref().expect("the unwrap fails the body");
        assert!(
            failure.message.contains("PoisonError"),
            "{kind}: {}",
            failure.message
        );
    }
}

/// A `LazyLock` whose initialiser panicked, then its next access: the first access's panic and
/// the next's, and how many times the initialiser ran, on the `LazyLock` at `$sync`.
macro_rules! lazy_after_a_panic {
    ($sync:path) => {{
        use $sync as sync;
        let message =
            |payload: Box<dyn std::any::Any + Send>| threadproof::sync::panic_message(&*payload);
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let lazy = sync::LazyLock::new(|| {
            if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                panic!("the first initialisation");
            }
            7u32
        });
        let first = catch_unwind(AssertUnwindSafe(|| *lazy)).map_err(message);
        let next = catch_unwind(AssertUnwindSafe(|| *lazy)).map_err(message);
        (first, next, calls.load(std::sync::atomic::Ordering::SeqCst))
    }};
}

/// A `LazyLock` whose initialiser panicked is poisoned as std's is: every later access panics
/// with std's words, and the initialiser never runs again. (Mutant caught: the `LazyLock` on
/// a `OnceLock` alone, as before, ran the initialiser again and gave `Ok(7)`.)
#[test]
fn a_lazy_lock_whose_initialiser_panicked_is_poisoned_as_std_s() {
    let std_says = lazy_after_a_panic!(std::sync);
    let poisoned = "LazyLock instance has previously been poisoned".to_string();
    let expected = (
        Err("the first initialisation".to_string()),
        Err(poisoned),
        1,
    );
    assert_eq!(std_says, expected);
    let verdicts = check!(with portfolio(); {
        lazy_after_a_panic!(threadproof::std::sync)
    }, move |outcome| *outcome == expected);
    assert!(verdicts.reports.iter().all(|(_, r)| r.executions > 0));
}
