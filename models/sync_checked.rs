//! The `sync` surface under the checkers (its production twin is `tests/sync_production.rs`):
//! each item shown at work through the one-line `check!`, and each explored choice shown being
//! taken (a body whose bug needs that choice is caught by loom and shuttle, and passes where the
//! choice cannot be taken).
//!
//! One section per item: `choose`, weak exchanges, timeouts (condvar, channel, park), parking,
//! the facade-built primitives (barrier, semaphore, rwlock, once), atomics and fences, plain
//! data, scoped threads, names, channels, and loom's thread cap.

use std::time::Duration;

use threadproof::check::{Portfolio, Verdicts};
use threadproof::explore::{Budget, CheckerKind, Coverage, FailureKind, LoomConfig};
use threadproof::sync::RecvTimeoutError;
// Bodies over the per-backend paths (`lock()` returns the guard, `P` names the backend).
use threadproof::{check_backends as check, verdicts_backends as verdicts};

use crate::support::iterations;

/// The standard portfolio at the suite's shuttle budget.
fn portfolio() -> Portfolio {
    Portfolio::with_iterations(iterations())
}

/// Every checker of `verdicts` failed with `kind`.
fn caught_by_every_checker<O>(verdicts: &Verdicts<O>, kind: FailureKind) {
    for (checker, report) in &verdicts.reports {
        assert_eq!(
            report.failure_kind(),
            Some(kind),
            "{checker} should catch it:\n{}",
            verdicts.explain()
        );
    }
}

/// The outcomes checker `kind` reached, in order.
fn outcomes<O: Clone + Ord>(verdicts: &Verdicts<O>, kind: CheckerKind) -> Vec<O> {
    let report = verdicts.report(kind).expect("the checker ran");
    report.outcomes.keys().cloned().collect()
}

/// The outcomes any of shuttle's schedulers reached, in order.
fn reached_by_shuttle<O: Clone + Ord>(verdicts: &Verdicts<O>) -> Vec<O> {
    let mut reached: Vec<O> = (verdicts.reports.iter())
        .filter(|(kind, _)| kind.is_shuttle())
        .flat_map(|(_, report)| report.outcomes.keys().cloned())
        .collect();
    reached.sort();
    reached.dedup();
    reached
}

mod choices {
    use super::*;

    /// `choose(n)`: loom explores every value of every choice (3 x 2 here), shuttle draws
    /// them; both reach all six pairs.
    #[test]
    fn choose_is_explored_exhaustively_by_loom_and_drawn_by_shuttle() {
        let verdicts = check!(with portfolio(); (choose(3), choose(2)));
        let all: Vec<(usize, usize)> = (0..3).flat_map(|a| (0..2).map(move |b| (a, b))).collect();
        let loom = verdicts.report(CheckerKind::Loom).unwrap();
        assert_eq!(loom.coverage, Coverage::Exhaustive);
        for kind in [
            CheckerKind::Loom,
            CheckerKind::Random,
            CheckerKind::Pct,
            CheckerKind::Urw,
        ] {
            assert_eq!(outcomes(&verdicts, kind), all, "{kind}");
        }
    }

    /// A bug that needs one value out of four is caught by every checker, and the failure
    /// names the value chosen; its replay line reproduces it.
    #[test]
    fn a_rare_value_is_found_and_replayed() {
        let verdicts = verdicts!(with portfolio(); {
            let value = choose(4);
            assert_ne!(value, 3, "the rare value");
            value
        });
        caught_by_every_checker(&verdicts, FailureKind::Panicked);
        let loom = verdicts.report(CheckerKind::Loom).unwrap();
        let failure = loom.failure.as_ref().unwrap();
        assert!(
            failure
                .explain()
                .contains("values chosen (thread#k=value): t#0=3"),
            "{}",
            failure.explain()
        );
        let token = failure.replay.to_string();
        let replayed = threadproof::replay_backends!(&token, {
            let value = choose(4);
            assert_ne!(value, 3, "the rare value");
            value
        });
        assert_eq!(replayed.failure_kind(), Some(FailureKind::Panicked));
    }
}

mod weak_exchange {
    use super::*;

    /// Claims a free slot with one `compare_exchange_weak` and no retry loop: correct with a
    /// strong exchange, wrong when the weak one fails spuriously (it may, on LL/SC hardware).
    macro_rules! claim_once {
        ($exchange:ident) => {{
            let slot = Arc::new(atomic::AtomicUsize::new(0));
            let claimant = {
                let slot = Arc::clone(&slot);
                thread::spawn(move || {
                    use atomic::Ordering::{Acquire, Relaxed};
                    slot.$exchange(0, 1, Acquire, Relaxed).is_ok()
                })
            };
            claimant.join().unwrap()
        }};
    }

    #[test]
    fn a_spurious_failure_is_an_explored_fault_on_both_checkers() {
        let verdicts =
            verdicts!(with portfolio(); claim_once!(compare_exchange_weak), |claimed| *claimed);
        caught_by_every_checker(&verdicts, FailureKind::InvariantViolated);
        let loom = verdicts.report(CheckerKind::Loom).unwrap();
        let explained = loom.failure.as_ref().unwrap().explain();
        assert!(explained.contains("failed spuriously"), "{explained}");
        assert!(
            explained.contains("spurious wakeups or failures at (thread#k): t0#0"),
            "{explained}"
        );
    }

    #[test]
    fn without_faults_or_with_a_strong_exchange_it_passes() {
        check!(with portfolio(); claim_once!(compare_exchange), |claimed| *claimed);
        let no_faults = Portfolio {
            loom: Some(LoomConfig::exhaustive()),
            shuttle: Vec::new(),
            require_complete: false,
        };
        check!(with no_faults; claim_once!(compare_exchange_weak), |claimed| *claimed);
    }

    /// `fetch_update` is std's weak-exchange loop: it survives spurious failures.
    #[test]
    fn fetch_update_retries_spurious_failures() {
        check!(with portfolio(); {
            let counter = Arc::new(atomic::AtomicI32::new(-1));
            let adder = {
                let counter = Arc::clone(&counter);
                thread::spawn(move || {
                    use atomic::Ordering::SeqCst;
                    counter.fetch_update(SeqCst, SeqCst, |v| Some(v - 2)).unwrap()
                })
            };
            counter.fetch_sub(1, atomic::Ordering::SeqCst);
            adder.join().unwrap();
            counter.load(atomic::Ordering::SeqCst)
        }, |total| *total == -4);
    }
}

mod timeouts {
    use super::*;

    /// A waiter that gives up after a timeout, with a notifier: whether it was notified or
    /// timed out first. Both are reachable; code that assumes the notification breaks.
    macro_rules! wait_for_flag {
        () => {{
            let pair = Arc::new((Mutex::new(false), Condvar::new()));
            let notifier = {
                let pair = Arc::clone(&pair);
                thread::spawn(move || {
                    *pair.0.lock() = true;
                    pair.1.notify_one();
                })
            };
            let (flag, ready) = &*pair;
            let mut set = flag.lock();
            let mut timed_out = false;
            if !*set {
                let (relocked, result) = ready.wait_timeout(set, Duration::from_secs(1));
                set = relocked;
                timed_out = result.timed_out();
            }
            let seen = *set;
            drop(set);
            notifier.join().unwrap();
            (seen, timed_out)
        }};
    }

    #[test]
    fn the_timeout_branch_is_caught_by_loom_and_shuttle() {
        let verdicts = verdicts!(with portfolio(); wait_for_flag!(), |(seen, _)| *seen);
        caught_by_every_checker(&verdicts, FailureKind::InvariantViolated);
        let explained = verdicts.explain();
        assert!(
            explained.contains("wait Condvar#1: timed out, relocked Mutex#1"),
            "{explained}"
        );
    }

    #[test]
    fn both_branches_are_reached() {
        let verdicts = check!(with portfolio(); wait_for_flag!());
        let every = vec![(false, false), (false, true), (true, false), (true, true)];
        assert_eq!(outcomes(&verdicts, CheckerKind::Loom), every);
        // Shuttle samples: between them, its schedulers reach both branches too.
        assert_eq!(reached_by_shuttle(&verdicts), every);
    }

    /// A timed wait nobody notifies times out: no false deadlock, on either checker.
    #[test]
    fn a_lone_timed_wait_times_out_instead_of_deadlocking() {
        check!(with portfolio(); {
            let lock = Mutex::new(0);
            let ready = Condvar::new();
            let (_, result) = ready.wait_timeout_while(lock.lock(), Duration::from_millis(5), |v| *v == 0);
            result.timed_out()
        }, |timed_out| *timed_out);
    }

    #[test]
    fn recv_timeout_times_out_or_receives() {
        let verdicts = check!(with portfolio(); {
            let (tx, rx) = mpsc::channel();
            let sender = thread::spawn(move || tx.send(7).unwrap());
            let received = rx.recv_timeout(Duration::from_secs(1));
            sender.join().unwrap();
            received
        });
        let both = vec![Ok(7), Err(RecvTimeoutError::Timeout)];
        assert_eq!(outcomes(&verdicts, CheckerKind::Loom), both);
        assert_eq!(reached_by_shuttle(&verdicts), both);
    }

    #[test]
    fn park_timeout_returns_unparked_or_timed_out() {
        let verdicts = check!(with portfolio(); {
            let flag = Arc::new(atomic::AtomicBool::new(false));
            let main = thread::current();
            let setter = {
                let flag = Arc::clone(&flag);
                thread::spawn(move || {
                    flag.store(true, atomic::Ordering::SeqCst);
                    main.unpark();
                })
            };
            thread::park_timeout(Duration::from_secs(1));
            let seen = flag.load(atomic::Ordering::SeqCst);
            setter.join().unwrap();
            seen
        });
        assert_eq!(outcomes(&verdicts, CheckerKind::Loom), [false, true]);
        assert_eq!(reached_by_shuttle(&verdicts), [false, true]);
    }

    /// The timer that models timeouts takes one of loom's four spawn slots: a body that needs
    /// all four and a timeout is left to shuttle, and loom's row says why.
    #[test]
    fn loom_without_a_slot_for_the_timer_says_so() {
        let verdicts = check!(with portfolio(); {
            let workers: Vec<_> = (0..4).map(|_| thread::spawn(|| ())).collect();
            let lock = Mutex::new(());
            let (_, result) = Condvar::new().wait_timeout(lock.lock(), Duration::from_millis(1));
            for worker in workers {
                worker.join().unwrap();
            }
            result.timed_out()
        });
        let loom = verdicts.report(CheckerKind::Loom).unwrap();
        let why = loom.unsupported().expect("loom cannot run it").to_string();
        assert!(
            why.contains("the timer thread that models the body's timeouts"),
            "{why}"
        );
        assert!(verdicts.table().contains("skipped: unsupported by loom"));
        let random = verdicts.report(CheckerKind::Random).unwrap();
        assert!(random.passed());
    }
}

mod parking {
    use super::*;

    /// `if` where a `while` belongs around `park`: right unless park returns spuriously,
    /// which std allows and the checkers explore as a fault.
    macro_rules! park_once {
        () => {{
            let flag = Arc::new(atomic::AtomicBool::new(false));
            let main = thread::current();
            let setter = {
                let flag = Arc::clone(&flag);
                thread::spawn(move || {
                    flag.store(true, atomic::Ordering::SeqCst);
                    main.unpark();
                })
            };
            if !flag.load(atomic::Ordering::SeqCst) {
                thread::park();
            }
            let seen = flag.load(atomic::Ordering::SeqCst);
            setter.join().unwrap();
            seen
        }};
    }

    #[test]
    fn a_spurious_park_return_is_caught() {
        let verdicts = verdicts!(with portfolio(); park_once!(), |seen| *seen);
        caught_by_every_checker(&verdicts, FailureKind::InvariantViolated);
        assert!(verdicts.explain().contains("woke spuriously"));
    }

    #[test]
    fn an_unpark_before_the_park_is_never_lost() {
        let no_faults = Portfolio {
            loom: Some(LoomConfig::exhaustive()),
            shuttle: vec![threadproof::explore::ShuttleConfig::random(iterations())],
            require_complete: false,
        };
        check!(with no_faults; park_once!(), |seen| *seen);
    }
}

mod built {
    use super::*;

    /// Three threads meet at a barrier twice; exactly one leader per generation, and nobody
    /// passes before all arrived.
    #[test]
    fn barrier_releases_a_generation_only_when_all_arrived() {
        check!(with portfolio(); {
            let barrier = Arc::new(Barrier::new(2));
            let arrived = Arc::new(atomic::AtomicUsize::new(0));
            let other = {
                let (barrier, arrived) = (Arc::clone(&barrier), Arc::clone(&arrived));
                thread::spawn(move || {
                    arrived.fetch_add(1, atomic::Ordering::SeqCst);
                    let leader = barrier.wait().is_leader();
                    (arrived.load(atomic::Ordering::SeqCst), leader)
                })
            };
            arrived.fetch_add(1, atomic::Ordering::SeqCst);
            let leader = barrier.wait().is_leader();
            let seen = arrived.load(atomic::Ordering::SeqCst);
            let (other_seen, other_leader) = other.join().unwrap();
            (seen, other_seen, leader != other_leader)
        }, |outcome| *outcome == (2, 2, true));
    }

    #[test]
    fn a_barrier_short_of_a_party_deadlocks() {
        let verdicts = verdicts!(with portfolio(); {
            let barrier = Arc::new(Barrier::new(3));
            let other = {
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || barrier.wait().is_leader())
            };
            barrier.wait();
            other.join().unwrap()
        });
        caught_by_every_checker(&verdicts, FailureKind::Deadlock);
        assert!(verdicts.explain().contains("Barrier#1"));
    }

    /// `finally { release() }` after a failed `try_acquire` (sirix #1072): the permit count
    /// grows, and two threads end up where one may be.
    #[test]
    fn releasing_an_unacquired_permit_breaks_exclusion() {
        let verdicts = verdicts!(with portfolio(); {
            let permits = Arc::new(Semaphore::new(1));
            let inside = Arc::new(atomic::AtomicUsize::new(0));
            let most = Arc::new(atomic::AtomicUsize::new(0));
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    let (permits, inside, most) =
                        (Arc::clone(&permits), Arc::clone(&inside), Arc::clone(&most));
                    thread::spawn(move || {
                        use atomic::Ordering::SeqCst;
                        if permits.try_acquire() {
                            let now = inside.fetch_add(1, SeqCst) + 1;
                            most.fetch_max(now, SeqCst);
                            inside.fetch_sub(1, SeqCst);
                        }
                        permits.release(); // the bug: released whether acquired or not
                        permits.acquire();
                        let now = inside.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(now, SeqCst);
                        inside.fetch_sub(1, SeqCst);
                        permits.release();
                    })
                })
                .collect();
            for worker in workers {
                worker.join().unwrap();
            }
            most.load(atomic::Ordering::SeqCst)
        }, |most| *most <= 1);
        caught_by_every_checker(&verdicts, FailureKind::InvariantViolated);
    }

    /// A read guard held while reading again, with a writer queued between: the writer waits
    /// for the first guard, the second read waits behind the writer (writer preference, as in
    /// std's and parking_lot's locks): a deadlock both checkers find.
    #[test]
    fn a_recursive_read_with_a_queued_writer_deadlocks() {
        let verdicts = verdicts!(with portfolio(); {
            let lock = Arc::new(RwLock::new(1));
            let writer = {
                let lock = Arc::clone(&lock);
                thread::spawn(move || *lock.write() += 1)
            };
            let first = lock.read();
            let second = *lock.read();
            let total = *first + second;
            drop(first);
            writer.join().unwrap();
            total
        });
        caught_by_every_checker(&verdicts, FailureKind::Deadlock);
        let explained = verdicts.explain();
        assert!(explained.contains("RwLock#1"), "{explained}");
    }

    /// The `try_*` calls may find the lock taken. (Loom sees a `try_lock` fail only when the
    /// caller touched the holder's critical section first, here the flag; its report says so.)
    #[test]
    fn try_lock_try_read_and_try_write_may_find_the_lock_taken() {
        let verdicts = check!(with portfolio(); {
            let mutex = Arc::new(Mutex::new(0));
            let rwlock = Arc::new(RwLock::new(0));
            let busy = Arc::new(atomic::AtomicBool::new(false));
            let holder = {
                let (mutex, rwlock, busy) = (Arc::clone(&mutex), Arc::clone(&rwlock), Arc::clone(&busy));
                thread::spawn(move || {
                    let held = mutex.lock();
                    busy.store(true, atomic::Ordering::SeqCst);
                    drop(held);
                    *rwlock.write() += 1;
                })
            };
            let saw_busy = busy.load(atomic::Ordering::SeqCst);
            let got_mutex = mutex.try_lock().is_some();
            let got_write = rwlock.try_write().is_some();
            let got_read = rwlock.try_read().is_some();
            holder.join().unwrap();
            (saw_busy, got_mutex, got_write, got_read)
        });
        let reached = outcomes(&verdicts, CheckerKind::Loom);
        assert!(reached.contains(&(false, true, true, true)), "{reached:?}");
        assert!(reached.iter().any(|(_, m, _, _)| !m), "{reached:?}");
        assert!(reached.iter().any(|(_, _, w, r)| !w && !r), "{reached:?}");
        let loom = verdicts.report(CheckerKind::Loom).unwrap();
        assert!(
            loom.blind_spots
                .iter()
                .any(|spot| spot.contains("loom does not see lock releases")),
            "{:?}",
            loom.blind_spots
        );
        assert!(reached_by_shuttle(&verdicts).iter().any(|(_, m, _, _)| !m));
    }

    #[test]
    fn once_oncelock_and_lazylock_initialise_exactly_once() {
        check!(with portfolio(); {
            let once = Arc::new(Once::new());
            let cell = Arc::new(OnceLock::new());
            let runs = Arc::new(atomic::AtomicUsize::new(0));
            let other = {
                let (once, cell, runs) = (Arc::clone(&once), Arc::clone(&cell), Arc::clone(&runs));
                thread::spawn(move || {
                    once.call_once(|| {
                        runs.fetch_add(1, atomic::Ordering::SeqCst);
                    });
                    *cell.get_or_init(|| 1)
                })
            };
            once.call_once(|| {
                runs.fetch_add(1, atomic::Ordering::SeqCst);
            });
            let mine = *cell.get_or_init(|| 2);
            let theirs = other.join().unwrap();
            let lazy: LazyLock<u32> = LazyLock::new(|| 40 + 2);
            (runs.load(atomic::Ordering::SeqCst), once.is_completed(), mine == theirs, *lazy)
        }, |outcome| *outcome == (1, true, true, 42));
    }
}

mod atomics {
    use super::*;

    /// Every atomic type and `fetch_*` operation, with the values std gives, on every backend.
    #[test]
    fn every_type_and_operation_computes_what_std_computes() {
        fn run<P: threadproof::sync::Primitives>() -> Vec<i128> {
            use std::sync::atomic::Ordering::SeqCst;
            use threadproof::sync::{
                AtomicBool, AtomicI16, AtomicI32, AtomicI64, AtomicI8, AtomicIsize, AtomicPtr,
                AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize,
            };
            let i8_ = AtomicI8::<P>::new(i8::MAX);
            let i16_ = AtomicI16::<P>::new(5);
            let i32_ = AtomicI32::<P>::new(-3);
            let i64_ = AtomicI64::<P>::new(0);
            let isize_ = AtomicIsize::<P>::new(1);
            let u8_ = AtomicU8::<P>::new(0b1100);
            let u16_ = AtomicU16::<P>::new(7);
            let u32_ = AtomicU32::<P>::new(1);
            let u64_ = AtomicU64::<P>::new(10);
            let usize_ = AtomicUsize::<P>::new(3);
            let bool_ = AtomicBool::<P>::new(true);
            let mut value = 5_u32;
            let ptr = AtomicPtr::<P, u32>::new(std::ptr::null_mut());
            let old_ptr = ptr.swap(&mut value, SeqCst);
            vec![
                i8_.fetch_add(1, SeqCst) as i128,
                i8_.load(SeqCst) as i128,
                i16_.fetch_max(9, SeqCst) as i128,
                i16_.fetch_min(2, SeqCst) as i128,
                i16_.load(SeqCst) as i128,
                i32_.fetch_sub(4, SeqCst) as i128,
                i32_.load(SeqCst) as i128,
                i64_.swap(-7, SeqCst) as i128,
                i64_.compare_exchange(-7, 8, SeqCst, SeqCst).unwrap() as i128,
                isize_.fetch_xor(3, SeqCst) as i128,
                isize_.load(SeqCst) as i128,
                u8_.fetch_and(0b1010, SeqCst) as i128,
                u8_.fetch_or(1, SeqCst) as i128,
                u8_.fetch_nand(0b1111, SeqCst) as i128,
                u8_.load(SeqCst) as i128,
                u16_.fetch_update(SeqCst, SeqCst, |v| Some(v * 3)).unwrap() as i128,
                u16_.load(SeqCst) as i128,
                u32_.compare_exchange(2, 3, SeqCst, SeqCst).unwrap_err() as i128,
                u64_.fetch_add(u64::MAX, SeqCst) as i128,
                u64_.load(SeqCst) as i128,
                usize_.into_inner() as i128,
                bool_.fetch_not(SeqCst) as i128,
                bool_.fetch_or(false, SeqCst) as i128,
                old_ptr.is_null() as i128,
                // SAFETY: the pointer is to `value`, alive and not otherwise borrowed.
                unsafe { *ptr.load(SeqCst) } as i128,
            ]
        }
        let expected = vec![
            127, -128, 5, 9, 2, -3, -7, 0, -7, 1, 2, 12, 8, 9, 246, 7, 21, 1, 10, 9, 3, 1, 0, 1, 5,
        ];
        assert_eq!(run::<threadproof::sync::Std>(), expected);
        assert_eq!(run::<threadproof::sync::ParkingLot>(), expected);
        let on_loom = verdicts!(with portfolio(); run::<P>());
        for (kind, report) in &on_loom.reports {
            assert_eq!(
                report.outcomes.keys().collect::<Vec<_>>(),
                [&expected],
                "{kind}"
            );
        }
    }

    /// Store buffering: with Relaxed flags both loads can miss both stores (loom sees it,
    /// shuttle's SeqCst-only model cannot); a SeqCst fence after each store forbids it.
    macro_rules! store_buffering {
        ($fence:expr) => {{
            use atomic::Ordering::Relaxed;
            let x = Arc::new(atomic::AtomicI32::new(0));
            let y = Arc::new(atomic::AtomicI32::new(0));
            let other = {
                let (x, y) = (Arc::clone(&x), Arc::clone(&y));
                thread::spawn(move || {
                    y.store(1, Relaxed);
                    if $fence {
                        atomic::fence(atomic::Ordering::SeqCst);
                    }
                    x.load(Relaxed)
                })
            };
            x.store(1, Relaxed);
            if $fence {
                atomic::fence(atomic::Ordering::SeqCst);
            }
            let seen_y = y.load(Relaxed);
            (other.join().unwrap(), seen_y)
        }};
    }

    #[test]
    fn fences_forbid_what_relaxed_store_buffering_allows() {
        let relaxed = check!(with portfolio(); store_buffering!(false));
        assert!(outcomes(&relaxed, CheckerKind::Loom).contains(&(0, 0)));
        assert!(!outcomes(&relaxed, CheckerKind::Random).contains(&(0, 0)));
        let fenced = check!(with portfolio(); store_buffering!(true));
        assert!(!outcomes(&fenced, CheckerKind::Loom).contains(&(0, 0)));
        let explained =
            verdicts!(with portfolio(); store_buffering!(true), |o| *o != (1, 1)).explain();
        assert!(explained.contains("fence SeqCst"), "{explained}");
    }
}

mod plain_data {
    use super::*;

    /// An `UnsafeCell` incremented by two threads without a lock: loom reports the data race at the
    /// user's lines; shuttle, whose cell accesses are scheduling points, sees a lost update.
    #[test]
    fn an_unsynchronised_cell_is_a_race_for_loom_and_a_lost_update_for_shuttle() {
        let verdicts = verdicts!(with portfolio(); {
            let cell = Arc::new(UnsafeCell::new(0));
            let other = {
                let cell = Arc::clone(&cell);
                // SAFETY: none: the race is the bug the checkers must report.
                thread::spawn(move || unsafe { cell.set(cell.get() + 1) })
            };
            // SAFETY: as above.
            unsafe { cell.set(cell.get() + 1) };
            other.join().unwrap();
            // SAFETY: the other thread was joined.
            unsafe { cell.get() }
        }, |total| *total == 2);
        let loom = verdicts
            .report(CheckerKind::Loom)
            .unwrap()
            .failure
            .as_ref()
            .unwrap();
        assert!(
            loom.message.starts_with("data race on UnsafeCell#1"),
            "{}",
            loom.message
        );
        for kind in [CheckerKind::Random, CheckerKind::Pct, CheckerKind::Urw] {
            let report = verdicts.report(kind).unwrap();
            assert_eq!(
                report.failure_kind(),
                Some(FailureKind::InvariantViolated),
                "{kind}"
            );
        }
    }
}

mod threads {
    use super::*;

    #[test]
    fn scoped_threads_borrow_and_are_joined() {
        check!(with portfolio(); {
            let values = [1, 2, 3];
            let total = atomic::AtomicUsize::new(0);
            thread::scope(|s| {
                for chunk in values.chunks(2) {
                    let total = &total;
                    s.spawn(move || {
                        total.fetch_add(chunk.iter().sum(), atomic::Ordering::SeqCst);
                    });
                }
            });
            total.into_inner()
        }, |total| *total == 6);
    }

    /// `current()` names `main` on every backend, named threads by their name, unnamed ones
    /// not at all; `sleep` and `yield_now` are scheduling points, not time.
    #[test]
    fn names_are_std_s_on_every_backend() {
        fn names<P: threadproof::sync::Primitives>(
        ) -> (Option<String>, Option<String>, Option<String>) {
            use threadproof::sync::{current, sleep, yield_now, Builder};
            let main = current::<P>().name().map(str::to_owned);
            let named = Builder::<P>::new()
                .name("worker".into())
                .spawn(|| current::<P>().name().map(str::to_owned))
                .unwrap();
            let unnamed = Builder::<P>::new()
                .spawn(|| {
                    sleep::<P>(Duration::from_millis(1));
                    yield_now::<P>();
                    current::<P>().name().map(str::to_owned)
                })
                .unwrap();
            (main, named.join().unwrap(), unnamed.join().unwrap())
        }
        let expected = (Some("main".to_string()), Some("worker".to_string()), None);
        // A program's main thread is named `main` by std; the test harness names its own
        // threads after their tests, so production runs in a thread named as std's main is.
        let in_main = |names: fn() -> _| {
            std::thread::Builder::new()
                .name("main".into())
                .spawn(names)
                .unwrap()
                .join()
                .unwrap()
        };
        assert_eq!(in_main(names::<threadproof::sync::Std>), expected);
        assert_eq!(in_main(names::<threadproof::sync::ParkingLot>), expected);
        let verdicts = check!(with portfolio(); names::<P>());
        for (kind, report) in &verdicts.reports {
            assert_eq!(
                report.outcomes.keys().collect::<Vec<_>>(),
                [&expected],
                "{kind}"
            );
        }
    }

    /// Loom allows four threads besides main: a body with six runs on shuttle's three
    /// schedulers, and loom's row says it was skipped and why.
    #[test]
    fn six_threads_skip_loom_with_the_reason_and_run_on_shuttle() {
        let verdicts = check!(with portfolio(); {
            let counter = Arc::new(Mutex::new(0));
            let workers: Vec<_> = (0..6)
                .map(|_| {
                    let counter = Arc::clone(&counter);
                    thread::spawn(move || *counter.lock() += 1)
                })
                .collect();
            for worker in workers {
                worker.join().unwrap();
            }
            let total = *counter.lock();
            total
        }, |total| *total == 6);
        let loom = verdicts.report(CheckerKind::Loom).unwrap();
        let why = loom.unsupported().expect("loom skipped it");
        assert!(why.reason.contains("loom allows 4 besides main"), "{why}");
        let table = verdicts.table();
        assert!(
            table.contains("skipped: unsupported by loom: at least 5 threads"),
            "{table}"
        );
        // A row that did not run has no figures (issue 20 D.12), and a library row does not
        // advise a flag of the CLI (E.19).
        let row: Vec<&str> = (table.lines())
            .find(|line| line.starts_with("loom"))
            .unwrap()
            .split_whitespace()
            .collect();
        assert_eq!(row[1..3], ["-", "-"], "{table}");
        assert!(!why.to_string().contains("--backend"), "{why}");
        for kind in [CheckerKind::Random, CheckerKind::Pct, CheckerKind::Urw] {
            let report = verdicts.report(kind).unwrap();
            assert!(report.passed(), "{}", report.summary());
            assert_eq!(report.largest_execution.unwrap().threads, 7, "{kind}");
        }
    }
}

mod channels {
    use super::*;

    /// A rendezvous send waits for a receiver: with none, it is a deadlock; a bounded channel
    /// refuses a `try_send` when full.
    #[test]
    fn a_rendezvous_send_without_a_receiver_deadlocks() {
        let verdicts = verdicts!(with portfolio(); {
            let (tx, _rx) = mpsc::sync_channel::<u32>(0);
            tx.send(1).is_ok()
        });
        caught_by_every_checker(&verdicts, FailureKind::Deadlock);
    }

    /// A rendezvous send whose receiver leaves without taking the message gets it back, in
    /// every interleaving: whether the receiver left before the send or while it waited.
    #[test]
    fn a_rendezvous_send_gets_its_message_back_when_the_receiver_leaves() {
        check!(with portfolio(); {
            let (tx, rx) = mpsc::sync_channel::<u32>(0);
            let sender = thread::spawn(move || tx.send(7));
            drop(rx);
            sender.join().unwrap()
        }, |sent| *sent == Err(7));
    }

    #[test]
    fn bounded_channels_hold_their_bound() {
        check!(with portfolio(); {
            let (tx, rx) = mpsc::sync_channel(1);
            let producer = thread::spawn(move || {
                let sent = [tx.send(1).is_ok(), tx.send(2).is_ok()];
                let full = tx.try_send(3);
                (sent, full)
            });
            let first = rx.recv();
            let second = rx.recv();
            let (sent, full) = producer.join().unwrap();
            let third = rx.try_recv();
            (first, second, sent, full.is_ok() == third.is_ok())
        }, |o| o.0 == Some(1) && o.1 == Some(2) && o.2 == [true, true] && o.3);
    }
}

/// Each checker of the portfolio has its own row, URW's included.
#[test]
fn the_verdict_table_has_a_row_per_scheduler() {
    let budget = Portfolio::with_iterations(50).budget(Budget::executions(50));
    let verdicts = check!(with budget; choose(2));
    let table = verdicts.table();
    for row in ["loom", "random", "pct", "urw"] {
        assert!(
            table.lines().any(|line| line.starts_with(row)),
            "{row}:\n{table}"
        );
    }
}

/// A loom run within a preemption bound covered only the executions within it: its row says
/// so, never "exhaustive" (issue 20 D.12).
#[test]
fn a_preemption_bounded_loom_row_is_not_exhaustive() {
    let bounded = Portfolio {
        loom: Some(LoomConfig::exhaustive().preemption_bound(1)),
        shuttle: Vec::new(),
        require_complete: false,
    };
    let verdicts = check!(with bounded; {
        let counter = Arc::new(Mutex::new(0));
        let c = Arc::clone(&counter);
        let t = thread::spawn(move || *c.lock() += 1);
        *counter.lock() += 1;
        t.join().unwrap();
        let total = *counter.lock();
        total
    }, |total| *total == 2);
    let table = verdicts.table();
    let row = table.lines().find(|l| l.starts_with("loom")).unwrap();
    assert!(row.contains("within 1 preemption"), "{table}");
    assert!(!row.contains("exhaustive"), "{table}");
}

/// A pass whose loom row was cut by its budget says so, and fails when a complete exploration
/// is required (issue 17, section 3).
#[test]
fn a_budget_cut_row_is_said_and_fails_when_completeness_is_required() {
    macro_rules! two_increments {
        () => {{
            let counter = Arc::new(Mutex::new(0));
            let c = Arc::clone(&counter);
            let t = thread::spawn(move || *c.lock() += 1);
            *counter.lock() += 1;
            t.join().unwrap();
            let total = *counter.lock();
            total
        }};
    }
    let cut = Portfolio {
        loom: Some(LoomConfig::exhaustive().budget(Budget::executions(1))),
        shuttle: Vec::new(),
        require_complete: false,
    };
    let verdicts = check!(with cut.clone(); two_increments!(), |total| *total == 2);
    let unfinished = verdicts.unfinished();
    assert_eq!(unfinished.len(), 1, "{unfinished:?}");
    assert!(
        unfinished[0].starts_with(
            "threadproof::check!: loom did not finish: bounded (budget) after 1 executions"
        ),
        "{unfinished:?}"
    );
    let panicked = std::panic::catch_unwind(|| {
        check!(with cut.require_complete(); two_increments!(), |total| *total == 2);
    })
    .expect_err("a cut row fails a check that requires completeness");
    let message = panicked.downcast_ref::<String>().unwrap();
    assert!(message.contains("loom did not finish"), "{message}");
}

/// In a test a check is one line; when it fails, it panics with the verdict table, the first
/// failure explained (its trace at the user's lines) and the line that replays it, and the
/// token in that line reproduces the failure.
#[test]
fn a_failing_one_line_check_panics_with_its_trace_and_replay_line() {
    // The increment split into a read and a write under separate locks loses an update.
    macro_rules! split_increment {
        () => {{
            let counter = Arc::new(Mutex::new(0));
            let c = Arc::clone(&counter);
            let t = thread::spawn(move || {
                let seen = *c.lock();
                *c.lock() = seen + 1;
            });
            let seen = *counter.lock();
            *counter.lock() = seen + 1;
            t.join().unwrap();
            let total = *counter.lock();
            total
        }};
    }
    let panicked = std::panic::catch_unwind(|| {
        check!(with portfolio(); split_increment!(), |total| *total == 2);
    })
    .expect_err("the lost update fails the check");
    let message = panicked
        .downcast_ref::<String>()
        .expect("check! panics with a message");
    assert!(
        message.starts_with("threadproof::check! failed:"),
        "{message}"
    );
    for row in ["loom", "random", "pct", "urw"] {
        assert!(
            message.lines().any(|line| line.starts_with(row)),
            "no {row} row:\n{message}"
        );
    }
    assert!(message.contains("invariant violated"), "{message}");
    assert!(message.contains("Mutex#1"), "{message}");
    assert!(message.contains("@models/sync_checked.rs:"), "{message}");
    // Only the replay line that compiles as printed (issue 20 D.14), naming the macro that takes
    // this body (`replay_backends!` for a body on the per-backend paths): the one below, pasted.
    let replay_lines: Vec<&str> = (message.lines())
        .filter(|line| line.contains("replay"))
        .collect();
    assert!(
        replay_lines.iter().all(|l| !l.contains("explore::replay")),
        "{message}"
    );
    let prefix = "replay it in a test: threadproof::replay_backends!(\"";
    let token = (message.lines())
        .find_map(|line| line.strip_prefix(prefix))
        .and_then(|rest| rest.split_once('"'))
        .map(|(token, _)| token.to_string())
        .unwrap_or_else(|| panic!("no replay line:\n{message}"));
    let replayed = threadproof::replay_backends!(&token, split_increment!(), |total| *total == 2);
    assert_eq!(
        replayed.failure_kind(),
        Some(FailureKind::InvariantViolated),
        "{}",
        replayed.summary()
    );
}
