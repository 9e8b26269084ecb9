//! The built primitives under the checkers (issues 19 and 20): a drop during a caught panic
//! does its bookkeeping, a thread's stack size is honoured, and each built primitive costs
//! loom at most twice the executions of loom's own primitive on the same program.

#[path = "primitive_programs.rs"]
pub mod programs;

use std::panic::{catch_unwind, AssertUnwindSafe};

use threadproof::check::Portfolio;
use threadproof::explore::{CheckerKind, LoomConfig};
use threadproof::{check_backends, verdicts_backends};

use crate::support::iterations;

fn portfolio() -> Portfolio {
    Portfolio::with_iterations(iterations())
}

/// Issue 20 E.16: drops inside a panic that the body catches still count, on every checker.
/// (Mutant caught: the drops skipping their bookkeeping while `std::thread::panicking()`, as
/// at 790787c: each of these is then a false deadlock.)
mod caught_panics {
    use super::*;

    #[test]
    fn a_sender_dropped_while_a_caught_panic_unwinds_disconnects() {
        check_backends!(with portfolio(); {
            let (tx, rx) = mpsc::channel::<u32>();
            let receiver = thread::spawn(move || rx.recv());
            let caught = catch_unwind(AssertUnwindSafe(move || {
                let _tx = tx;
                panic!("unwinding with the only sender");
            }));
            (caught.is_err(), receiver.join().unwrap())
        }, |outcome| *outcome == (true, None));
    }

    #[test]
    fn a_receiver_dropped_while_a_caught_panic_unwinds_disconnects() {
        check_backends!(with portfolio(); {
            let (tx, rx) = mpsc::sync_channel::<u32>(0);
            let sender = thread::spawn(move || tx.send(7));
            let caught = catch_unwind(AssertUnwindSafe(move || {
                let _rx = rx;
                panic!("unwinding with the receiver");
            }));
            (caught.is_err(), sender.join().unwrap())
        }, |outcome| *outcome == (true, Err(7)));
    }

    #[test]
    fn a_write_guard_dropped_while_a_caught_panic_unwinds_releases_the_lock() {
        check_backends!(with portfolio(); {
            let lock = Arc::new(RwLock::new(0));
            let writer = {
                let lock = Arc::clone(&lock);
                thread::spawn(move || *lock.write() += 1)
            };
            let caught = catch_unwind(AssertUnwindSafe(|| {
                let mut guard = lock.write();
                *guard += 10;
                panic!("unwinding with the write guard");
            }));
            writer.join().unwrap();
            let total = *lock.read();
            (caught.is_err(), total)
        }, |outcome| *outcome == (true, 11));
    }

    /// Loom's mutex keeps std's poison flag inside and unwraps it on the next lock: loom
    /// cannot run this body, and says so; the shuttle rows check it. (Mutant caught: the
    /// panic inside loom reported as the body's failure, as before: "FAILED: panic at
    /// execution 1 ... PoisonError".)
    #[test]
    fn a_mutex_guard_dropped_while_a_caught_panic_unwinds_is_loom_s_limit_not_a_failure() {
        let locked_at = line!() + 8;
        let verdicts = verdicts_backends!(with portfolio(); {
            let lock = Arc::new(Mutex::new(0));
            let other = {
                let lock = Arc::clone(&lock);
                thread::spawn(move || *lock.lock() += 1)
            };
            let caught = catch_unwind(AssertUnwindSafe(|| {
                let mut guard = lock.lock();
                *guard += 10;
                panic!("unwinding with the mutex guard");
            }));
            other.join().unwrap();
            let total = *lock.lock();
            (caught.is_err(), total)
        });
        let explained = verdicts.explain();
        assert!(verdicts.passed(), "{explained}");
        let loom = verdicts.report(CheckerKind::Loom).expect("a loom row");
        let why = loom
            .unsupported()
            .expect("loom reports it cannot run the body");
        assert!(
            why.reason
                .starts_with("unsupported by loom: a Mutex guard dropped while a panic unwound"),
            "{why}"
        );
        let detail = why.detail.as_deref().unwrap_or_default();
        assert!(
            detail.contains(&format!("primitives.rs:{locked_at}")),
            "{why}"
        );
        // A pass says it beside the table's "skipped", with where and what can run it.
        let said = format!("threadproof::check!: loom did not run: {why}");
        assert!(verdicts.notes().contains(&said), "{:?}", verdicts.notes());
        assert!(explained.contains(&said), "{explained}");
        assert!(
            why.to_string()
                .contains("shuttle (random, pct, urw) can run it"),
            "{why}"
        );
        for kind in [CheckerKind::Random, CheckerKind::Pct, CheckerKind::Urw] {
            let report = verdicts.report(kind).expect("a shuttle row");
            assert!(
                report.executions > 0 && report.failure.is_none(),
                "{explained}"
            );
            assert_eq!(
                report.outcomes.keys().collect::<Vec<_>>(),
                [&(true, 11)],
                "{explained}"
            );
        }
    }
}

/// Issue 20 E.17: `Builder::stack_size` reaches the checkers' model threads.
mod stacks {
    use super::*;

    /// A thread whose frame needs 1 MiB: with a 4 MiB stack it runs on every checker. (At
    /// 790787c the size was dropped: loom failed it with a non-string panic payload, shuttle
    /// crashed the test process with SIGSEGV.)
    #[test]
    fn a_thread_given_a_large_stack_can_use_it() {
        check_backends!(with portfolio(); {
            let deep = thread::Builder::new()
                .stack_size(4 << 20)
                .spawn(|| {
                    let buffer = std::hint::black_box([1u8; 1 << 20]);
                    buffer.iter().map(|b| usize::from(*b)).sum::<usize>()
                })
                .unwrap();
            deep.join().unwrap()
        }, |sum| *sum == 1 << 20);
    }

    /// A panic that carries no string is named for what it is, not "(non-string ...)".
    #[test]
    fn a_non_string_panic_payload_is_named() {
        let verdicts = verdicts_backends!(with portfolio(); {
            let worker = thread::spawn(|| std::panic::panic_any(42u32));
            worker.join().is_ok()
        });
        let explained = verdicts.explain();
        assert!(
            explained.contains("a payload that is not a string"),
            "{explained}"
        );
        assert!(
            !explained.contains("non-string panic payload"),
            "{explained}"
        );
    }
}

/// Issue 19 section 2: loom explores a built primitive's meaning, not its insides.
mod costs {
    use super::programs::{loom_executions, loom_programs, raw_loom_executions};
    use super::*;

    /// Every program threadproof runs on loom's own primitive costs it (at `check!`'s
    /// setting, one spurious wakeup per execution) at most twice raw loom's executions; the
    /// ones built on loom's mutex and condvar are measured and printed (see
    /// `benches/primitives.rs`). Loom's counts are deterministic: no timed assertion.
    #[test]
    fn each_native_primitive_costs_loom_at_most_twice_its_own() {
        let config = LoomConfig::exhaustive().spurious_wakeups(1);
        let mut over = Vec::new();
        for program in loom_programs() {
            let raw = raw_loom_executions(program.raw_loom.unwrap());
            let built = loom_executions(&config, program.loom.unwrap());
            println!("{}: raw loom {raw}, threadproof loom {built}", program.name);
            if program.native && built > 2 * raw {
                over.push(format!("{}: {built} > 2 x {raw}", program.name));
            }
        }
        assert!(over.is_empty(), "{over:?}");
    }

    /// The built primitives cost loom at most their ceiling (a multiple of raw loom's
    /// executions): one model event per channel operation and per `RwLock` entry (an
    /// acquisition that waits and enters again makes two), none for a write release under
    /// loom's hand-over, no internal wait nobody needs, and a
    /// channel's blocking receive interleaved with receives only. (Mutants caught: the channel
    /// and `RwLock` on the backend's mutex and condvar, as at e05024f: two-senders 3,227
    /// executions against raw loom's 19, three-writers 19,054 against 414, both over their
    /// ceilings; the receive entering by the sends' event, as at c1c2a41: two-senders 400,
    /// over its ceiling of 2x; an `RwLock` whose raised waiters always enter again, as at
    /// 87ffe2b: three-writers 6,191; one whose write releases are events, as at 08abede:
    /// 4,022; both over its ceiling of 2x.)
    #[test]
    fn each_built_primitive_costs_loom_at_most_its_ceiling() {
        let config = LoomConfig::exhaustive().spurious_wakeups(1);
        let mut over = Vec::new();
        for program in loom_programs() {
            let Some(ceiling) = program.built_ceiling else {
                continue;
            };
            let raw = raw_loom_executions(program.raw_loom.unwrap());
            let built = loom_executions(&config, program.loom.unwrap());
            println!("{}: raw loom {raw}, threadproof loom {built}", program.name);
            if built > ceiling * raw {
                over.push(format!("{}: {built} > {ceiling} x {raw}", program.name));
            }
        }
        assert!(over.is_empty(), "{over:?}");
    }

    /// The programs are correct on raw shuttle and on threadproof's shuttle (what the bench
    /// times; the times printed here are for `--nocapture` readers, never asserted).
    #[test]
    fn the_programs_pass_on_threadproof_s_shuttle() {
        use std::time::Instant;
        use threadproof::explore::{self, ShuttleConfig};
        let mut programs = loom_programs();
        programs.push(programs::many_senders());
        for program in programs {
            let iterations = 20;
            let started = Instant::now();
            shuttle::check_random(program.raw_shuttle, iterations);
            let raw = started.elapsed();
            let config = ShuttleConfig::random(iterations);
            let started = Instant::now();
            let report = explore::shuttle::explore(&config, program.shuttle, |_: &()| Ok(()));
            let built = started.elapsed();
            assert!(report.passed(), "{}: {}", program.name, report.summary());
            println!(
                "{}: {iterations} random schedules, raw shuttle {raw:?}, threadproof {built:?}",
                program.name
            );
        }
    }
}

/// Loom blocks a thread waiting at its `try_lock` when another thread takes the lock first,
/// where std's returns at once: a deadlock through such a wait is loom's, not the body's.
mod loom_try_lock {
    use super::*;

    /// A thread holds `m` and tries `l`; main locks `l`, then `m`. Under std no order
    /// deadlocks (the try returns at once); loom's row says it could not run the body, and
    /// the shuttle rows pass it. (Mutant caught: the deadlock reported as the body's, as
    /// before: "loom: FAILED: deadlock at execution 7".)
    #[test]
    fn a_deadlock_through_a_try_lock_loom_made_wait_is_not_the_body_s() {
        let verdicts = verdicts_backends!(with portfolio(); {
            let (m, l) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
            let trier = {
                let (m, l) = (Arc::clone(&m), Arc::clone(&l));
                thread::spawn(move || {
                    let held = m.lock();
                    let got = l.try_lock().is_some();
                    drop(held);
                    got
                })
            };
            let locked = l.lock();
            drop(m.lock());
            drop(locked);
            trier.join().unwrap()
        });
        let explained = verdicts.explain();
        assert!(verdicts.passed(), "{explained}");
        let loom = verdicts.report(CheckerKind::Loom).expect("a loom row");
        let why = loom
            .unsupported()
            .expect("loom says it could not run the body");
        assert!(
            why.reason
                .contains("a deadlock with a thread waiting inside a try_lock"),
            "{why}"
        );
        for kind in [CheckerKind::Random, CheckerKind::Pct, CheckerKind::Urw] {
            let report = verdicts.report(kind).expect("a shuttle row");
            let reached: Vec<_> = report.outcomes.keys().copied().collect();
            assert_eq!(reached, [false, true], "{kind}: {explained}");
        }
    }

    /// Two threads that lock `a` and `b` in opposite orders deadlock in std whatever a third
    /// thread's `try_lock` does, and loom reports that deadlock as the body's. (Whether the
    /// third thread waits inside its `try_lock` then is loom's choice of first deadlock; the
    /// cycle check it would need is `explore::explain::deadlock`'s unit test.)
    #[test]
    fn a_lock_cycle_outside_any_try_lock_is_the_body_s_deadlock() {
        let verdicts = verdicts_backends!(with portfolio(); {
            let (a, b) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
            let crosswise = |first: Arc<Mutex<u32>>, second: Arc<Mutex<u32>>| {
                thread::spawn(move || {
                    let held = first.lock();
                    drop(second.lock());
                    drop(held);
                })
            };
            let trier = {
                let a = Arc::clone(&a);
                thread::spawn(move || a.try_lock().is_some())
            };
            let one = crosswise(Arc::clone(&a), Arc::clone(&b));
            let two = crosswise(Arc::clone(&b), Arc::clone(&a));
            one.join().unwrap();
            two.join().unwrap();
            trier.join().unwrap()
        });
        let loom = verdicts.report(CheckerKind::Loom).expect("a loom row");
        assert!(loom.unsupported().is_none(), "{}", verdicts.explain());
        let failure = loom.failure.as_ref().expect("loom finds the deadlock");
        assert_eq!(
            failure.kind.to_string(),
            "deadlock",
            "{}",
            verdicts.explain()
        );
    }

    /// A deadlock with no thread inside a `try_lock` stays the body's failure under loom.
    #[test]
    fn a_deadlock_without_a_try_lock_is_still_the_body_s() {
        let verdicts = verdicts_backends!(with portfolio(); {
            let (m, l) = (Arc::new(Mutex::new(0)), Arc::new(Mutex::new(0)));
            let other = {
                let (m, l) = (Arc::clone(&m), Arc::clone(&l));
                thread::spawn(move || {
                    let held = m.lock();
                    drop(l.lock());
                    drop(held);
                })
            };
            let locked = l.lock();
            drop(m.lock());
            drop(locked);
            other.join().unwrap();
        });
        let loom = verdicts.report(CheckerKind::Loom).expect("a loom row");
        let failure = loom.failure.as_ref().expect("loom finds the deadlock");
        assert_eq!(
            failure.kind.to_string(),
            "deadlock",
            "{}",
            verdicts.explain()
        );
    }
}

/// The `RwLock` under loom: a release hands the lock to the head of its queue (its writer or its
/// run of readers) until the exploration's
/// first try operation, which starts it again with raised waiters entering again (std's
/// barging), so loom reaches what std's lock can do either way.
mod loom_rwlock {
    use std::collections::BTreeSet;

    use threadproof::explore::{self, Budget, LoomConfig};
    use threadproof::std::sync::{Arc, RwLock};
    use threadproof::std::thread;

    /// Main holds the write lock while a reader and a writer queue behind it, then lets go.
    /// The writer sets two atomics inside its critical section, each a step where loom may
    /// switch threads, and the reader reads both inside its own: it sees both or neither, in
    /// every order loom reaches, and both are reached, with no start again (no try operation;
    /// the per-backend paths, whose objects need none either). (Mutant caught: readers handed
    /// the lock without being counted in, `hand_to_readers` leaving the count as it was: in a
    /// debug build "FAILED at execution 49: panic: attempt to subtract with overflow", the
    /// reader's release.)
    #[test]
    fn a_handed_lock_excludes_as_a_taken_one_does() {
        use threadproof::sync::loom::atomic::{AtomicUsize, Ordering::Relaxed};
        use threadproof::sync::loom::{thread, Arc, RwLock};
        let report = explore::loom::explore(
            &LoomConfig::exhaustive(),
            || {
                let lock = Arc::new(RwLock::new(()));
                let pair = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
                let held = lock.write();
                let reader = {
                    let (lock, pair) = (Arc::clone(&lock), Arc::clone(&pair));
                    thread::spawn(move || {
                        let _read = lock.read();
                        (pair.0.load(Relaxed), pair.1.load(Relaxed))
                    })
                };
                let writer = {
                    let (lock, pair) = (Arc::clone(&lock), Arc::clone(&pair));
                    thread::spawn(move || {
                        let _write = lock.write();
                        pair.0.store(1, Relaxed);
                        pair.1.store(1, Relaxed);
                    })
                };
                drop(held);
                writer.join().unwrap();
                reader.join().unwrap()
            },
            |_| Ok(()),
        );
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.restarts, None, "{}", report.summary());
        let seen: BTreeSet<(usize, usize)> = report.outcomes.keys().copied().collect();
        assert_eq!(seen, BTreeSet::from([(0, 0), (1, 1)]));
    }

    /// Main writes under the write lock (the value, and a `Relaxed` atomic) while two readers
    /// come. Under hand-over a write release makes no event: a token carries its causality to
    /// whoever takes the lock after it, and a reader that takes it holds off the readers that
    /// come meanwhile until it has passed it on. So every reader that reads the value written
    /// also reads the atomic written before it, as std's readers, whose acquisitions read
    /// from the release; and loom reaches both readers before, both after, and one of each.
    /// (Mutants caught: a write release with no token, "FAILED at execution 1: invariant
    /// violated: a reader read 1 under the lock and 0"; readers not held off while the
    /// tokens are taken, the same at execution 13.)
    #[test]
    fn every_reader_after_a_write_release_that_made_no_event_sees_the_writer_s_writes() {
        use threadproof::sync::loom::atomic::{AtomicUsize, Ordering::Relaxed};
        use threadproof::sync::loom::{thread, Arc, RwLock};
        let report = explore::loom::explore(
            &LoomConfig::exhaustive(),
            || {
                let lock = Arc::new(RwLock::new(0));
                let written = Arc::new(AtomicUsize::new(0));
                let readers: Vec<_> = (0..2)
                    .map(|_| {
                        let (lock, written) = (Arc::clone(&lock), Arc::clone(&written));
                        thread::spawn(move || {
                            let read = lock.read();
                            (*read, written.load(Relaxed))
                        })
                    })
                    .collect();
                {
                    let mut write = lock.write();
                    written.store(1, Relaxed);
                    *write = 1;
                }
                let seen: Vec<(usize, usize)> =
                    readers.into_iter().map(|r| r.join().unwrap()).collect();
                (seen[0], seen[1])
            },
            |&(first, second)| {
                for (value, atomic) in [first, second] {
                    if value == 1 && atomic == 0 {
                        return Err(format!("a reader read {value} under the lock and {atomic}"));
                    }
                }
                Ok(())
            },
        );
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.restarts, None, "{}", report.summary());
        let seen: BTreeSet<((usize, usize), (usize, usize))> =
            report.outcomes.keys().copied().collect();
        for both in [((0, 0), (0, 0)), ((1, 1), (1, 1)), ((0, 0), (1, 1))] {
            assert!(seen.contains(&both), "{both:?} not reached: {seen:?}");
        }
    }

    /// Two readers, the first writing two `Relaxed` atomics under its read guard and the
    /// second reading them under its own. Their guards overlap in std, so the second can see
    /// the first store and not the second, `(1, 0)`, and loom reaches it under hand-over.
    /// (Mutant caught: readers that exclude each other reach only `(0, 0)` and `(1, 1)`.)
    #[test]
    fn a_reader_beside_another_sees_its_writes_in_part() {
        use threadproof::sync::loom::atomic::{AtomicUsize, Ordering::Relaxed};
        use threadproof::sync::loom::{thread, Arc, RwLock};
        let report = explore::loom::explore(
            &LoomConfig::exhaustive(),
            || {
                let lock = Arc::new(RwLock::new(()));
                let pair = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
                let second = {
                    let (lock, pair) = (Arc::clone(&lock), Arc::clone(&pair));
                    thread::spawn(move || {
                        let _read = lock.read();
                        (pair.0.load(Relaxed), pair.1.load(Relaxed))
                    })
                };
                {
                    let _read = lock.read();
                    pair.0.store(1, Relaxed);
                    pair.1.store(1, Relaxed);
                }
                second.join().unwrap()
            },
            |_| Ok(()),
        );
        assert!(report.passed(), "{}", report.summary());
        let seen: BTreeSet<(usize, usize)> = report.outcomes.keys().copied().collect();
        assert!(seen.contains(&(1, 0)), "{seen:?}");
        assert!(seen.contains(&(1, 1)), "{seen:?}");
    }

    /// Main holds the write lock while a reader and a writer come, each taking a ticket
    /// under its guard. Under hand-over the queue is served in the order threads came, where
    /// std wakes a waiting writer first; no body without a try operation can tell, because
    /// a waiter's arrival cannot be seen: the orders of tickets reached are the same as
    /// barging's (std's policy, the exploration after a start again). A writer-first
    /// hand-over with silent write releases passes it too (no test here catches that
    /// variant, which the arrival-order argument in `BuiltRwLock`'s docs rules out); what it
    /// catches is a hand-over that loses a waiter: a write release that leaves the run of
    /// readers at the head queued ("deadlock: every live thread is blocked").
    #[test]
    fn the_hand_over_reaches_the_orders_barging_reaches() {
        use threadproof::sync::loom::atomic::{AtomicUsize, Ordering::Relaxed};
        use threadproof::sync::loom::{thread, Arc, RwLock};
        fn body() -> (usize, usize, usize) {
            let lock = Arc::new(RwLock::new(()));
            let tickets = Arc::new(AtomicUsize::new(0));
            let held = lock.write();
            let reader = {
                let (lock, tickets) = (Arc::clone(&lock), Arc::clone(&tickets));
                thread::spawn(move || {
                    let _read = lock.read();
                    tickets.fetch_add(1, Relaxed)
                })
            };
            let writer = {
                let (lock, tickets) = (Arc::clone(&lock), Arc::clone(&tickets));
                thread::spawn(move || {
                    let _write = lock.write();
                    tickets.fetch_add(1, Relaxed)
                })
            };
            let mine = tickets.fetch_add(1, Relaxed);
            drop(held);
            let again = {
                let _read = lock.read();
                tickets.fetch_add(1, Relaxed)
            };
            let (r, w) = (reader.join().unwrap(), writer.join().unwrap());
            assert_eq!(mine, 0);
            (r, w, again)
        }
        let handed = explore::loom::explore(&LoomConfig::exhaustive(), body, |_| Ok(()));
        let barging = LoomConfig {
            barging: true,
            ..LoomConfig::exhaustive()
        };
        let barged = explore::loom::explore(&barging, body, |_| Ok(()));
        assert!(handed.passed(), "{}", handed.summary());
        assert!(barged.passed(), "{}", barged.summary());
        let orders = |report: &explore::Report<(usize, usize, usize)>| {
            report.outcomes.keys().copied().collect::<BTreeSet<_>>()
        };
        assert_eq!(orders(&handed), orders(&barged));
        // Each of the three takes the lock first, second or third in some execution.
        let every = [
            (1, 2, 3),
            (1, 3, 2),
            (2, 1, 3),
            (2, 3, 1),
            (3, 1, 2),
            (3, 2, 1),
        ];
        assert_eq!(orders(&handed), BTreeSet::from(every));
    }

    /// Main holds a read guard while a writer queues behind it and a third thread tries a
    /// read, then a write. A failing `try_read` can see the queued writer (writer
    /// preference), and once main lets go, std lets the `try_write` in before the raised
    /// writer: it reads the value the writer has not yet written, `(false, Some(0))`. Loom
    /// reaches that and every other outcome std allows, and none it does not, after starting
    /// again once at the first `try_read`, which the report says. (Mutants caught: a release
    /// that hands the lock to the raised writer whatever the body does, as at d1eab7e, loses
    /// `(false, Some(0))`; `BuiltRwLock::before_try` doing nothing: no start again.)
    #[test]
    fn a_try_write_can_barge_in_before_a_raised_writer_that_a_try_read_saw_waiting() {
        let report =
            explore::loom::explore(&LoomConfig::exhaustive(), try_read_then_write, |_| Ok(()));
        assert!(report.passed(), "{}", report.summary());
        let restarts = report
            .restarts
            .expect("started again at the first try_read");
        assert_eq!(restarts.times, 1, "{}", report.summary());
        assert!(restarts.executions >= 1, "{}", report.summary());
        let said = format!(
            "started again once, after {} execution",
            restarts.executions
        );
        assert!(report.summary().contains(&said), "{}", report.summary());
        let seen: BTreeSet<(bool, Option<u32>)> = report.outcomes.keys().copied().collect();
        let every = [
            (false, None),
            (false, Some(0)),
            (false, Some(1)),
            (true, None),
            (true, Some(0)),
            (true, Some(1)),
        ];
        assert_eq!(seen, BTreeSet::from(every));
    }

    /// The body above: whether the third thread's `try_read` succeeded, and what its
    /// `try_write` read.
    fn try_read_then_write() -> (bool, Option<u32>) {
        let lock = Arc::new(RwLock::new(0));
        let held = lock.read().unwrap();
        let writer = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || *lock.write().unwrap() = 1)
        };
        let trier = {
            let lock = Arc::clone(&lock);
            thread::spawn(move || {
                let read = lock.try_read().is_ok();
                let written = lock.try_write().ok().map(|guard| *guard);
                (read, written)
            })
        };
        drop(held);
        writer.join().unwrap();
        trier.join().unwrap()
    }

    fn not_barged(outcome: &(bool, Option<u32>)) -> Result<(), String> {
        match outcome {
            (false, Some(0)) => Err("the try_write barged in before the raised writer".into()),
            _ => Ok(()),
        }
    }

    /// A failure found after the start again, whose replay token has no preemption bound
    /// (here the search for fewer preemptions ran out of budget), says `rwlock=barging`, and
    /// its replay runs with raised waiters entering again from its first execution: it
    /// reproduces the failure at the token's execution without starting again. (Mutant
    /// caught: `LoomConfig::barging` never set in a failure's token.)
    #[test]
    fn an_unbounded_token_found_after_the_start_again_replays_barging_from_the_start() {
        let found =
            explore::loom::explore(&LoomConfig::exhaustive(), try_read_then_write, not_barged);
        let failure = found.failure.expect("loom reaches the barging outcome");
        let restarts = found.restarts.expect("started again at the first try_read");
        // Just enough for the first pass and the failure: none left for the search.
        let budget = Budget::executions(restarts.executions + failure.execution);
        let config = LoomConfig::exhaustive().budget(budget);
        let cut = explore::loom::explore(&config, try_read_then_write, not_barged);
        let failure = cut.failure.expect("found again within the budget");
        let token = failure.replay.to_string();
        assert!(token.contains(":rwlock=barging@"), "{token}");
        assert!(!token.contains("preemptions="), "{token}");
        let replayed = explore::replay(&token, try_read_then_write, not_barged);
        assert_eq!(replayed.restarts, None, "{}", replayed.summary());
        let again = replayed.failure.expect("the token reproduces the failure");
        assert_eq!(again.message, failure.message);
        assert_eq!(replayed.executions, failure.replay.execution);
    }
}

/// The channel under loom as loom's own is searched: a blocking `recv` of an unbounded channel
/// commutes with the sends, so loom interleaves receives with receives only, and sends with
/// sends; each message carries its sender's causality to whoever takes it.
mod loom_channel {
    use std::collections::BTreeSet;

    use threadproof::explore::{self, LoomConfig};
    use threadproof::std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use threadproof::std::sync::{mpsc, Arc};
    use threadproof::std::thread;

    use super::*;

    /// Every outcome of `body` under loom's exhaustive search, which must pass.
    fn loom_outcomes<O>(body: impl Fn() -> O + Send + Sync + 'static) -> BTreeSet<O>
    where
        O: Ord + Clone + std::fmt::Debug + Send + 'static,
    {
        let report = explore::loom::explore(&LoomConfig::exhaustive(), body, |_: &O| Ok(()));
        assert!(report.passed(), "{}", report.summary());
        report.outcomes.keys().cloned().collect()
    }

    /// A sender thread writes 7 `Relaxed`, does `last` with its sender (a send, or the drop),
    /// then raises a `Relaxed` flag; main reads the flag (whether `last` came before its
    /// receive began: the flag orders nothing), receives, and reads the write.
    fn a_relaxed_write_then(last: fn(mpsc::Sender<u32>)) -> BTreeSet<(bool, Option<u32>, usize)> {
        loom_outcomes(move || {
            let (written, done) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
            let (tx, rx) = mpsc::channel::<u32>();
            let sender = {
                let (written, done) = (Arc::clone(&written), Arc::clone(&done));
                thread::spawn(move || {
                    written.store(7, Relaxed);
                    last(tx);
                    done.store(1, Relaxed);
                })
            };
            let done_first = done.load(Relaxed) == 1;
            let got = rx.recv().ok();
            let seen = written.load(Relaxed);
            sender.join().unwrap();
            (done_first, got, seen)
        })
    }

    /// What a sender wrote before its send is seen after the receive, whether the message was
    /// queued before the `recv` began or handed to it waiting (both are reached). (Mutant
    /// caught: loom's token made as the other backends' `NoToken`: a receive that finds the
    /// message queued reads the write's old value, outcome `(true, Some(1), 0)`.)
    #[test]
    fn a_message_carries_its_sender_s_writes_to_whoever_takes_it() {
        let outcomes = a_relaxed_write_then(|tx| tx.send(1).unwrap());
        let every = [(false, Some(1), 7), (true, Some(1), 7)];
        assert_eq!(outcomes, BTreeSet::from(every));
    }

    /// What the last sender wrote before its drop is seen by a receive that finds every sender
    /// gone, as in std (whose receive synchronises with that drop), whether the drop came
    /// before the receive began or while it waited. (Mutants caught: no token for a sender's
    /// drop, `Gated::sender_leaving` doing nothing: outcomes `(false, None, 0)` and
    /// `(true, None, 0)`; before drops had tokens, no event after a commuting receive that
    /// found the channel disconnected: `(true, None, 0)`.)
    #[test]
    fn the_last_sender_s_writes_reach_a_receive_that_finds_it_gone() {
        let outcomes = a_relaxed_write_then(drop);
        let every = [(false, None, 7), (true, None, 7)];
        assert_eq!(outcomes, BTreeSet::from(every));
    }

    /// What a sender wrote before its drop is seen by a receive that finds every sender gone,
    /// whichever sender's drop was the last: in std each drop is a read-modify-write of the
    /// count, so every drop is ordered before the last one, and that before the receive.
    /// (Mutant caught: only the last drop carrying its causality, as before this test: outcome
    /// `(None, 0)` where the other sender's drop was the last.)
    #[test]
    fn every_sender_s_writes_reach_a_receive_that_finds_them_all_gone() {
        let outcomes = loom_outcomes(|| {
            let written = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = mpsc::channel::<u32>();
            let other = tx.clone();
            let writer = {
                let written = Arc::clone(&written);
                thread::spawn(move || {
                    written.store(7, Relaxed);
                    drop(tx);
                })
            };
            let dropper = thread::spawn(move || drop(other));
            let got = rx.recv().ok();
            let seen = written.load(Relaxed);
            writer.join().unwrap();
            dropper.join().unwrap();
            (got, seen)
        });
        assert_eq!(outcomes, BTreeSet::from([(None, 7)]));
    }

    /// A `try_recv` beside a send has two outcomes, one per order: loom reaches both, as it
    /// reaches both orders of the two sends. (Mutant caught: `try_recv` entering by the
    /// commuting event, as the blocking `recv` does: loom explores one order of it and the
    /// second send, and misses an outcome.)
    #[test]
    fn loom_reaches_every_order_of_a_try_recv_beside_the_sends() {
        let outcomes = loom_outcomes(|| {
            let (tx, rx) = mpsc::channel::<u32>();
            let tx2 = tx.clone();
            let a = thread::spawn(move || tx.send(1).unwrap());
            let b = thread::spawn(move || tx2.send(2).unwrap());
            let first = rx.recv().unwrap();
            let then = rx.try_recv().ok();
            a.join().unwrap();
            b.join().unwrap();
            (first, then)
        });
        let every = [(1, Some(2)), (1, None), (2, Some(1)), (2, None)];
        assert_eq!(outcomes, BTreeSet::from(every));
    }

    /// The last sender's drop and a blocking `recv` commute: the receive ends with the message
    /// then `None` in every order, and loom finds no deadlock. (Mutant caught: the commuting
    /// entry not reading the disconnection, `inner.disconnected() && !commuting`: "FAILED at
    /// execution 8: deadlock", a receive that waits after the last sender is gone.)
    #[test]
    fn a_receive_sees_the_disconnection_in_every_order() {
        let outcomes = loom_outcomes(|| {
            let (tx, rx) = mpsc::channel::<u32>();
            let tx2 = tx.clone();
            let a = thread::spawn(move || tx.send(1).unwrap());
            let b = thread::spawn(move || drop(tx2));
            let got = (rx.recv().ok(), rx.recv().ok());
            a.join().unwrap();
            b.join().unwrap();
            got
        });
        assert_eq!(outcomes, BTreeSet::from([(Some(1), None)]));
    }

    /// Loom fails an execution whose channels end holding messages, which std knows nothing
    /// of; the causality tokens of a channel the body forgot are received once it has returned
    /// with every thread finished, so loom checks such a body as the shuttle rows do. (Mutant
    /// caught: no receipt at the body's end, `model::receive_tokens_left` returning at once:
    /// loom's row says "not run".)
    #[test]
    fn a_receiver_forgotten_with_a_message_in_it_is_checked_by_loom_too() {
        let verdicts = threadproof::verdicts!(with portfolio(); {
            let (tx, rx) = mpsc::channel::<u32>();
            let other = tx.clone();
            let sender = thread::spawn(move || tx.send(1).is_ok());
            drop(other);
            let sent = sender.join().unwrap();
            std::mem::forget(rx);
            sent
        }, |sent| *sent);
        let explained = verdicts.explain();
        assert!(verdicts.passed(), "{explained}");
        for kind in [
            CheckerKind::Loom,
            CheckerKind::Random,
            CheckerKind::Pct,
            CheckerKind::Urw,
        ] {
            let report = verdicts.report(kind).expect("a row per checker");
            assert!(
                report.unsupported().is_none() && report.executions > 0,
                "{explained}"
            );
        }
    }

    /// Where a thread still runs when the body returns, what it leaves in a channel it forgot
    /// cannot be received at the end: loom's leak check trips, and loom's row says it did not
    /// run the body, and why, while the shuttle rows check it. (Mutant caught: the leak check
    /// reported as the body's failure, "FAILED: panic at execution 1: Messages leaked.", seen
    /// before `explore::unseen::loom_leaked` existed.)
    #[test]
    fn a_channel_forgotten_by_a_thread_that_outlives_the_body_is_loom_s_limit_not_a_failure() {
        let verdicts = threadproof::verdicts!(with portfolio(); {
            thread::spawn(|| {
                let (tx, rx) = mpsc::channel::<u32>();
                tx.send(1).unwrap();
                std::mem::forget(rx);
            });
            true
        }, |ran| *ran);
        let explained = verdicts.explain();
        assert!(verdicts.passed(), "{explained}");
        let loom = verdicts.report(CheckerKind::Loom).expect("a loom row");
        let why = loom
            .unsupported()
            .expect("loom says it did not run the body");
        assert!(
            why.reason.starts_with(
                "unsupported by loom: a channel never dropped, and a thread (or a value it \
                 returned) outliving the body"
            ),
            "{why}"
        );
        assert!(
            why.detail
                .as_deref()
                .unwrap_or_default()
                .starts_with("2 causality token(s)"),
            "{why}"
        );
        assert!(
            explained.contains("threadproof::check!: loom did not run"),
            "{explained}"
        );
        for kind in [CheckerKind::Random, CheckerKind::Pct, CheckerKind::Urw] {
            let report = verdicts.report(kind).expect("a shuttle row");
            assert!(
                report.executions > 0 && report.failure.is_none(),
                "{explained}"
            );
        }
    }
}

/// std panics on an ordering an operation cannot have (a `Release` load, an `Acquire` store,
/// a `Release` failure ordering, ...), at run time; loom would take it as `Relaxed` and
/// shuttle ignore it, so a call that panics in production would pass its checks. Under every
/// checker it panics as std's does, with std's words, at the caller's place. (Mutant caught:
/// without the checks, every exploration passes.)
mod orderings {
    use std::sync::atomic::Ordering::{self, AcqRel, Acquire, Release, SeqCst};

    use threadproof::explore::{loom, shuttle, ShuttleConfig};
    use threadproof::sync::{panic_message, AtomicBool, Loom, Primitives, Shuttle, Std};

    use super::*;

    /// An ordering passed in, as a library passes its caller's: rustc's lint sees only
    /// literal ones.
    fn misuse<P: Primitives>(operation: usize, order: Ordering) {
        let flag = AtomicBool::<P>::new(false);
        match operation {
            0 => drop(flag.load(order)),
            1 => flag.store(true, order),
            2 => drop(flag.compare_exchange(false, true, SeqCst, order)),
            _ => drop(flag.compare_exchange_weak(false, true, SeqCst, order)),
        }
    }

    #[test]
    fn an_ordering_std_refuses_panics_under_every_checker_with_std_s_words() {
        let cases = [
            (0, Release, "there is no such thing as a release load"),
            (
                0,
                AcqRel,
                "there is no such thing as an acquire-release load",
            ),
            (1, Acquire, "there is no such thing as an acquire store"),
            (
                1,
                AcqRel,
                "there is no such thing as an acquire-release store",
            ),
            (
                2,
                Release,
                "there is no such thing as a release failure ordering",
            ),
            (
                3,
                AcqRel,
                "there is no such thing as an acquire-release failure ordering",
            ),
        ];
        for (operation, order, words) in cases {
            let std_said = catch_unwind(|| misuse::<Std>(operation, order)).unwrap_err();
            assert_eq!(panic_message(&*std_said), words, "std's own words");
            let reports = [
                loom::explore(
                    &LoomConfig::exhaustive(),
                    move || misuse::<Loom>(operation, order),
                    |_| Ok(()),
                ),
                shuttle::explore(
                    &ShuttleConfig::random(5),
                    move || misuse::<Shuttle>(operation, order),
                    |_| Ok(()),
                ),
            ];
            for report in reports {
                let summary = report.summary();
                let failure = report.failure.expect(&summary);
                assert_eq!(failure.message, words, "{summary}");
                let at = failure.location.unwrap_or_default();
                assert!(at.contains("models/primitives.rs"), "{at}: {summary}");
            }
        }
    }
}
