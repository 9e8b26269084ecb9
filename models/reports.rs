//! What a report says, tested on small bodies of user code: every word a report says is true,
//! and the failure it shows is the simplest one. One section per claim:
//!
//! 1. traces in the order things took effect, with values;
//! 2. data races at the user's lines (and plain data interleaving under shuttle);
//! 3. loom's thread cap is not a bug in the user's code;
//! 4. nothing explored is never a pass;
//! 5. confidence stated only where it holds;
//! 6. replay for everyone;
//! 7. the simplest failure first;
//! 8. readable at scale;
//! 9. a check's rows run side by side, reported in the portfolio's order.
//!
//! Plus loom's `SeqCst`: correct sequentially consistent code must not fail under loom.

use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::Arc;

use threadproof::explore::{
    self, loom, shuttle, Budget, Checker, Coverage, FailureKind, LoomConfig, Minimality, Report,
    Restarts, ShuttleConfig,
};
use threadproof::sync::trace::{Op, Phase, Scalar, Trace, Value};
use threadproof::sync::{
    spawn, AtomicUsize, Condvar, Loom, Mutex, Primitives, Shuttle, UnsafeCell,
};

/// An invariant that fails exactly when the reader saw `bad`.
fn fails_on(bad: usize) -> impl Fn(&usize) -> Result<(), String> + Send + Sync + 'static {
    move |seen| match *seen == bad {
        true => Err(format!("reader saw {seen}")),
        false => Ok(()),
    }
}

/// Explores `body` with `checker` (whose backend `body` must use).
fn check<O, B, I>(checker: &Checker, body: B, invariant: I) -> Report<O>
where
    O: Ord + Send + 'static,
    B: Fn() -> O + Send + Sync + 'static,
    I: Fn(&O) -> Result<(), String> + Send + Sync + 'static,
{
    let report = checker.explore(body, invariant);
    println!("{}", report.summary());
    report
}

fn loom_checker() -> Checker {
    Checker::Loom(LoomConfig::exhaustive())
}

fn random_checker() -> Checker {
    Checker::Shuttle(ShuttleConfig::random(1000))
}

/// The rows of `trace` on objects labelled `object`, as `(thread, op, value)`.
fn rows_on<'t>(trace: &'t Trace, object: &str) -> Vec<(&'t str, Op, &'t Value)> {
    trace
        .events
        .iter()
        .filter(|e| &*e.object == object)
        .map(|e| (&*e.thread, e.op, &e.value))
        .collect()
}

/// Under sequentially consistent execution (every shuttle atomic), replaying a trace's writes
/// in its order must give every read the value it recorded: the rows are in the order the
/// operations took effect. Returns the first row that contradicts its predecessors.
fn first_inconsistent_row(trace: &Trace, initial: Scalar) -> Option<String> {
    let mut values: Vec<(&str, Scalar)> = Vec::new();
    for (i, event) in trace.events.iter().enumerate() {
        let current = values
            .iter()
            .find(|(o, _)| *o == &*event.object)
            .map_or(initial, |(_, v)| *v);
        let (saw, wrote) = match &event.value {
            Value::Read(v) => (Some(*v), None),
            Value::Wrote(v) => (None, Some(*v)),
            Value::Updated { old, new } => (Some(*old), Some(*new)),
            Value::Exchanged { expected, new } => (Some(*expected), Some(*new)),
            Value::NotExchanged { saw, .. } => (Some(*saw), None),
            _ => (None, None),
        };
        if saw.is_some_and(|saw| saw != current) {
            return Some(format!(
                "step {}: {} {} {} saw {:?}, but the trace had {:?} there",
                i + 1,
                event.thread,
                event.op.name(),
                event.object,
                saw,
                current
            ));
        }
        if let Some(wrote) = wrote {
            match values.iter_mut().find(|(o, _)| *o == &*event.object) {
                Some(entry) => entry.1 = wrote,
                None => values.push((&event.object, wrote)),
            }
        }
    }
    None
}

/// 1. Traces in the order things took effect, with values.
mod took_effect {
    use super::*;

    /// The reader's row says what it saw, and each outcome's failure shows its own trace.
    fn different_outcomes_show_different_traces<P: Primitives>(checker: Checker) {
        let saw_0 = check(&checker, crate::support::writer_reader::<P>, fails_on(0));
        let saw_1 = check(&checker, crate::support::writer_reader::<P>, fails_on(1));
        let trace_0 = saw_0.failure.expect("reader saw 0").trace.unwrap();
        let trace_1 = saw_1.failure.expect("reader saw 1").trace.unwrap();
        assert_ne!(trace_0.columns(), trace_1.columns());
        for (trace, seen) in [(&trace_0, 0), (&trace_1, 1)] {
            let load = rows_on(trace, "AtomicUsize#1")
                .into_iter()
                .find(|(thread, op, _)| *thread == "main" && *op == Op::Load)
                .expect("the reader's load is recorded");
            assert_eq!(
                load.2,
                &Value::Read(Scalar::Usize(seen)),
                "{}",
                trace.columns()
            );
            let text = trace.columns();
            assert!(
                text.contains(&format!("load AtomicUsize#1 → {seen}")),
                "{text}"
            );
            assert!(text.contains("store AtomicUsize#1 ← 1"), "{text}");
            // The store comes before the load that saw it, and after the one that did not.
            let position = |op: Op| trace.events.iter().position(|e| e.op == op).unwrap();
            assert_eq!(
                position(Op::Store) < position(Op::Load),
                seen == 1,
                "{text}"
            );
        }
    }

    #[test]
    fn writer_reader_traces_differ_by_outcome_under_loom() {
        different_outcomes_show_different_traces::<Loom>(loom_checker());
    }

    #[test]
    fn writer_reader_traces_differ_by_outcome_under_shuttle() {
        different_outcomes_show_different_traces::<Shuttle>(random_checker());
    }

    /// A Treiber stack of node indices (0: empty): a pusher pushes node 1 then node 2 with a
    /// load and a compare_exchange each, a popper pops twice the same way.
    fn aba_stack<P: Primitives>() -> Vec<usize> {
        let head = Arc::new(AtomicUsize::<P>::new(0));
        // next[node]: what the node was pushed on; only written before its push's CAS.
        let next: Arc<[AtomicUsize<P>; 3]> = Arc::new(std::array::from_fn(|_| AtomicUsize::new(0)));
        let (h, n) = (Arc::clone(&head), Arc::clone(&next));
        let pusher = spawn::<P, _, _>("pusher", move || {
            for node in [1, 2] {
                loop {
                    let top = h.load(SeqCst);
                    n[node].store(top, SeqCst);
                    if h.compare_exchange(top, node, SeqCst, SeqCst).is_ok() {
                        break;
                    }
                }
            }
        })
        .unwrap();
        let mut popped = Vec::new();
        while popped.len() < 2 {
            let top = head.load(SeqCst);
            if top == 0 {
                threadproof::sync::yield_now::<P>();
                continue;
            }
            let below = next[top].load(SeqCst);
            if head.compare_exchange(top, below, SeqCst, SeqCst).is_ok() {
                popped.push(top);
            }
        }
        pusher.join().unwrap();
        popped
    }

    /// Every CAS is listed after the write it found: replaying the trace's writes in order
    /// gives each read and each compare_exchange exactly what it recorded. Checked on the
    /// first failing execution of many schedules (an invariant that always fails hands out
    /// one trace per exploration).
    #[test]
    fn aba_stack_rows_are_in_the_order_they_took_effect() {
        for seed in 0..40 {
            let checker = Checker::Shuttle(ShuttleConfig::random(1).seed(seed));
            let report = check(&checker, aba_stack::<Shuttle>, |_| Err("look".into()));
            let trace = report.failure.expect("always fails").trace.unwrap();
            if let Some(row) = first_inconsistent_row(&trace, Scalar::Usize(0)) {
                panic!("seed {seed}: {row}\n{}", trace.columns());
            }
            // The popper's successful CAS from node 1 comes after the pusher's CAS to node 1.
            let cas_to_1 = trace.events.iter().position(|e| {
                e.thread.as_ref() == "pusher"
                    && matches!(
                        e.value,
                        Value::Exchanged {
                            new: Scalar::Usize(1),
                            ..
                        }
                    )
            });
            let pop_of_1 = trace.events.iter().position(|e| {
                e.thread.as_ref() == "main"
                    && matches!(
                        e.value,
                        Value::Exchanged {
                            expected: Scalar::Usize(1),
                            ..
                        }
                    )
            });
            if let (Some(push), Some(pop)) = (cas_to_1, pop_of_1) {
                assert!(push < pop, "seed {seed}:\n{}", trace.columns());
            }
        }
    }

    /// A lock that had to wait shows where the attempt began and where it was acquired; a wait
    /// says who woke it; a join says it returned.
    #[test]
    fn blocking_operations_show_attempt_and_completion() {
        let body = || {
            let pair = Arc::new((Mutex::<Loom, bool>::new(false), Condvar::<Loom>::new()));
            let p = Arc::clone(&pair);
            let setter = spawn::<Loom, _, _>("setter", move || {
                *p.0.lock() = true;
                p.1.notify_one();
            })
            .unwrap();
            let mut ready = pair.0.lock();
            while !*ready {
                ready = pair.1.wait(ready);
            }
            drop(ready);
            setter.join().unwrap();
        };
        // Fails on every execution: the first one in which main waits is kept.
        let report = loom::explore(&LoomConfig::exhaustive(), body, |_| Err("look".into()));
        let trace = report.failure.unwrap().trace.unwrap();
        let text = trace.columns();
        assert!(text.contains("spawn setter"), "{text}");
        assert!(
            text.contains("joined setter") || text.contains("join setter"),
            "{text}"
        );
        if text.contains("wait Condvar#1") {
            assert!(
                text.contains("woken by setter's notify_one (step"),
                "{text}"
            );
            assert!(text.contains("relocked Mutex#1"), "{text}");
        }
        for event in &trace.events {
            if event.phase == Phase::Began {
                // Every attempt of a finished execution completed later in its thread.
                let later = trace.events.iter().skip_while(|e| !std::ptr::eq(*e, event));
                assert!(
                    later
                        .skip(1)
                        .any(|e| e.thread == event.thread && e.phase == Phase::Completed),
                    "{text}"
                );
            }
        }
    }
    /// Each primitive is one object of a trace, whatever the allocator does: one made where a
    /// dropped one lived is another object, and one moved after its first use is still itself.
    #[test]
    fn a_trace_names_each_primitive_made_once_and_never_by_its_address() {
        let body = || {
            let mut addresses = [0; 2];
            for (round, address) in addresses.iter_mut().enumerate() {
                // The same stack slot in both rounds: two mutexes at one address.
                let lock = Mutex::<Loom, usize>::new(round);
                *address = &lock as *const _ as usize;
                drop(lock.lock());
            }
            let moved = Mutex::<Loom, usize>::new(2);
            drop(moved.lock());
            let boxed = Box::new(moved);
            drop(boxed.lock());
            addresses[0] == addresses[1]
        };
        let report = loom::explore(&LoomConfig::exhaustive(), body, |one_address| {
            Err(format!(
                "look (the rounds' mutexes at one address: {one_address})"
            ))
        });
        let failure = report.failure.unwrap();
        // Else this test would not show what it claims.
        assert!(
            failure.message.contains("at one address: true"),
            "{}",
            failure.message
        );
        let trace = failure.trace.unwrap();
        let locked: Vec<&str> = (trace.events.iter())
            .filter(|e| e.op == Op::Lock)
            .map(|e| &*e.object)
            .collect();
        assert_eq!(
            locked,
            ["Mutex#1", "Mutex#2", "Mutex#3", "Mutex#3"],
            "{}",
            trace.columns()
        );
    }
}

/// 2. Data races at the user's lines; plain data interleaves under shuttle.
mod races {
    use super::*;

    /// A cell shared between threads with no synchronisation at all: the point of the tests.
    struct Shared<P: Primitives>(UnsafeCell<P, u32>);

    // SAFETY: not safe in general: these bodies race on purpose. Under loom the race is caught
    // at its first access (before any torn read could matter); under shuttle every model
    // thread runs on one OS thread, one at a time.
    unsafe impl<P: Primitives> Sync for Shared<P> {}
    // SAFETY: as above.
    unsafe impl<P: Primitives> Send for Shared<P> {}

    /// The main thread reads a cell that a spawned thread writes, with nothing ordering them.
    fn racy_cell<P: Primitives>() -> u32 {
        let cell = Arc::new(Shared(UnsafeCell::<P, u32>::named("shared", 0)));
        let c = Arc::clone(&cell);
        let writer = spawn::<P, _, _>("writer", move || {
            // SAFETY: see `Shared`.
            c.0.with_mut(|p| unsafe { *p = 1 });
        })
        .unwrap();
        // SAFETY: see `Shared`.
        let seen = cell.0.with(|p| unsafe { *p });
        writer.join().unwrap();
        seen
    }

    #[test]
    fn loom_names_both_racing_accesses_at_the_users_lines() {
        let report = loom::explore(&LoomConfig::exhaustive(), racy_cell::<Loom>, |_| Ok(()));
        let failure = report.failure.expect("loom sees the race");
        let explained = failure.explain();
        assert_eq!(failure.kind, FailureKind::DataRace);
        assert!(
            failure.message.starts_with("data race on shared:"),
            "{explained}"
        );
        assert!(
            failure.message.contains("main reads at models/reports.rs:"),
            "{explained}"
        );
        assert!(
            failure
                .message
                .contains("writer writes at models/reports.rs:"),
            "{explained}"
        );
        let location = failure.location.as_deref().unwrap();
        assert!(location.starts_with("models/reports.rs:"), "{explained}");
        assert!(!explained.contains("loom-0.7"), "{explained}");
        // Both accesses are rows of the trace, at the user's lines.
        let trace = failure.trace.unwrap();
        let accesses: Vec<_> = trace
            .events
            .iter()
            .filter(|e| e.object.as_ref() == "shared")
            .map(|e| (e.op, e.place()))
            .collect();
        assert!(accesses
            .iter()
            .any(|(op, place)| *op == Op::Read && place.starts_with("models/reports.rs:")));
    }

    /// Both threads write the cell: loom numbers the accesses of its report (`write one`,
    /// `write two`); the message says what each thread did, in the user's words.
    fn racy_writes<P: Primitives>() -> u32 {
        let cell = Arc::new(Shared(UnsafeCell::<P, u32>::named("shared", 0)));
        let c = Arc::clone(&cell);
        let writer = spawn::<P, _, _>("writer", move || {
            // SAFETY: see `Shared`.
            c.0.with_mut(|p| unsafe { *p = 1 });
        })
        .unwrap();
        // SAFETY: see `Shared`.
        cell.0.with_mut(|p| unsafe { *p = 2 });
        writer.join().unwrap();
        // SAFETY: the writer was joined.
        cell.0.with(|p| unsafe { *p })
    }

    #[test]
    fn a_write_write_race_is_a_data_race_told_without_loom_s_field_names() {
        let report = loom::explore(&LoomConfig::exhaustive(), racy_writes::<Loom>, |_| Ok(()));
        let failure = report.failure.expect("loom sees the race");
        assert_eq!(failure.kind, FailureKind::DataRace, "{}", failure.explain());
        let message = &failure.message;
        for leaked in [" one at", " two at", "with_mut"] {
            assert!(!message.contains(leaked), "{leaked:?} in {message}");
        }
        assert!(
            message.contains("main writes at models/reports.rs:"),
            "{message}"
        );
        assert!(
            message.contains("writer writes at models/reports.rs:"),
            "{message}"
        );
    }

    /// Two threads increment a plain counter in two steps each (read, then write): correct
    /// only if no read falls between another thread's read and write.
    fn plain_increments<P: Primitives>() -> u32 {
        let cell = Arc::new(Shared(UnsafeCell::<P, u32>::new(0)));
        // SAFETY: see `Shared`.
        let increment = |cell: &Shared<P>| {
            let seen = cell.0.with(|p| unsafe { *p });
            cell.0.with_mut(|p| unsafe { *p = seen + 1 });
        };
        let c = Arc::clone(&cell);
        let other = spawn::<P, _, _>("other", move || increment(&c)).unwrap();
        increment(&cell);
        other.join().unwrap();
        // SAFETY: every other thread is joined.
        cell.0.with(|p| unsafe { *p })
    }

    #[test]
    fn shuttle_interleaves_plain_data_and_finds_a_lost_update() {
        let report = check(
            &random_checker(),
            plain_increments::<Shuttle>,
            |total| match *total {
                2 => Ok(()),
                lost => Err(format!("lost an update: {lost}")),
            },
        );
        let failure = report
            .failure
            .expect("a read between another thread's read and write");
        assert_eq!(failure.kind, FailureKind::InvariantViolated);
        let text = failure.trace.unwrap().columns();
        assert!(
            text.contains("read UnsafeCell#1 @models/reports.rs:"),
            "{text}"
        );
        assert!(
            text.contains("write UnsafeCell#1 @models/reports.rs:"),
            "{text}"
        );
    }
}

/// 3. Loom's thread cap is a limit of the checker, not a bug.
mod thread_cap {
    use super::*;

    #[test]
    fn five_threads_are_unsupported_by_loom_not_a_failure() {
        let report = loom::explore(&LoomConfig::exhaustive(), || bumps::<Loom>(5), |_| Ok(()));
        assert!(report.failure.is_none(), "{}", report.summary());
        assert!(
            !report.passed(),
            "nothing proven is not a pass: {}",
            report.summary()
        );
        let unsupported = report.unsupported().expect("its own verdict");
        assert!(
            unsupported.reason.contains("unsupported by loom")
                && unsupported.reason.contains("at least 5 threads")
                && unsupported.reason.contains("loom allows 4 besides main"),
            "{unsupported}"
        );
        assert!(unsupported.instead.as_deref().unwrap().contains("shuttle"));
        assert!(report
            .summary()
            .contains("not checked: unsupported by loom"));
        // Four threads are within the cap, and the same code passes; shuttle runs five.
        let four = loom::explore(&LoomConfig::exhaustive(), || bumps::<Loom>(4), |_| Ok(()));
        assert!(four.passed(), "{}", four.summary());
        let five = shuttle::explore(
            &ShuttleConfig::random(100),
            || bumps::<Shuttle>(5),
            |_| Ok(()),
        );
        assert!(five.passed(), "{}", five.summary());
    }
}

/// 4. Nothing explored is never a pass.
mod nothing_explored {
    use super::*;

    #[test]
    fn a_report_of_zero_executions_has_not_passed() {
        let loom = LoomConfig::exhaustive().budget(Budget::executions(0));
        let report = loom::explore(&loom, crate::support::writer_reader::<Loom>, |_| Ok(()));
        assert_eq!(report.executions, 0);
        assert!(!report.passed(), "{}", report.summary());
        assert!(report.summary().contains("nothing explored: not a pass"));
        let shuttle = ShuttleConfig::random(0);
        let report = shuttle::explore(&shuttle, crate::support::writer_reader::<Shuttle>, |_| {
            Ok(())
        });
        assert_eq!(report.executions, 0);
        assert!(!report.passed(), "{}", report.summary());
        assert!(Budget::executions(0).allows_nothing().is_some());
        assert!(Budget::time(std::time::Duration::ZERO)
            .allows_nothing()
            .is_some());
        assert!(Budget::executions(1).allows_nothing().is_none());
    }

    #[test]
    fn a_cut_exploration_says_so() {
        let loom = LoomConfig::exhaustive().budget(Budget::executions(1));
        let report = loom::explore(&loom, crate::support::writer_reader::<Loom>, |_| Ok(()));
        assert_eq!(report.coverage, Coverage::BudgetExhausted);
        assert!(report.summary().contains("bounded (budget)"));
        assert_eq!(report.restarts, None, "{}", report.summary());
        assert!(!report.summary().contains("started again"));
    }

    /// A worker's timed wait, which needs the model timer: the exploration runs without it
    /// until an execution reaches the wait, then starts again with it. The abandoned pass is
    /// not counted among the executions, is said, and is charged to the budget: a budget of
    /// n executions runs n in all, not n in each pass. (Mutant caught: a fresh budget for the
    /// pass with the timer.)
    #[test]
    fn a_pass_that_started_again_is_said_and_charged_to_the_budget() {
        fn timed_wait<P: Primitives>() -> bool {
            let pair = Arc::new((Mutex::<P, bool>::new(false), Condvar::<P>::new()));
            let theirs = Arc::clone(&pair);
            let waiter = spawn::<P, _, _>("waiter", move || {
                let (flag, raised) = &*theirs;
                let guard = flag.lock();
                let (guard, _) = raised.wait_timeout(guard, std::time::Duration::from_millis(5));
                *guard
            })
            .unwrap();
            *pair.0.lock() = true;
            pair.1.notify_one();
            waiter.join().unwrap()
        }
        for checker in [
            // Several chunks of 64 schedules, on two workers: what is counted does not depend
            // on which worker ran what.
            Checker::Shuttle(ShuttleConfig::random(200).jobs(2)),
            Checker::Loom(LoomConfig::exhaustive()),
        ] {
            let (report, charged) = match &checker {
                Checker::Shuttle(config) => {
                    let report = shuttle::explore(config, timed_wait::<Shuttle>, |_| Ok(()));
                    let one = config.clone().jobs(1);
                    let alone = shuttle::explore(&one, timed_wait::<Shuttle>, |_| Ok(()));
                    assert_eq!(alone.restarts, report.restarts, "{}", alone.summary());
                    assert_eq!(alone.executions, report.executions, "{}", alone.summary());
                    let restarts = report.restarts.expect("the timer started it again");
                    let budget = Budget::executions(restarts.executions + 5);
                    let config = config.clone().budget(budget);
                    let charged = shuttle::explore(&config, timed_wait::<Shuttle>, |_| Ok(()));
                    (report, charged)
                }
                Checker::Loom(config) => {
                    let report = loom::explore(config, timed_wait::<Loom>, |_| Ok(()));
                    let restarts = report.restarts.expect("the timer started it again");
                    let budget = Budget::executions(restarts.executions + 5);
                    let config = config.clone().budget(budget);
                    let charged = loom::explore(&config, timed_wait::<Loom>, |_| Ok(()));
                    (report, charged)
                }
            };
            let summary = report.summary();
            assert!(report.passed(), "{summary}");
            let restarts = report.restarts.unwrap();
            // The execution that reached the timed wait without the timer.
            assert_eq!(
                restarts,
                Restarts {
                    times: 1,
                    executions: 1
                },
                "{summary}"
            );
            let said = "started again once, after 1 execution not counted";
            assert!(summary.contains(said), "{summary}");
            assert!(report.executions > 5, "{summary}");
            // n in all: the abandoned pass's execution and the last pass's.
            let summary = charged.summary();
            assert_eq!(charged.restarts, Some(restarts), "{summary}");
            assert_eq!(charged.executions, 5, "{summary}");
            assert_eq!(charged.coverage, Coverage::BudgetExhausted, "{summary}");
        }
    }

    /// A worker's timed wait inside `catch_unwind`, as a job runner that isolates panics
    /// writes it. Without the timer the wait raises its request for the timer, and the body
    /// catches it: the exploration must start again with the timer all the same, and reach
    /// both the timeout and the notification, never the caught request (`None`), having
    /// abandoned the pass without it at the execution that needed it. (Mutants caught: the
    /// request only raised, not remembered, fails loom's first pass at execution 2; loom's
    /// pass explored to its end after the caught request, as before, counts more abandoned
    /// executions.)
    #[test]
    fn a_timed_wait_whose_panic_the_body_catches_still_gets_the_timer() {
        fn caught_timed_wait<P: Primitives>() -> Option<bool> {
            let pair = Arc::new((Mutex::<P, bool>::new(false), Condvar::<P>::new()));
            let theirs = Arc::clone(&pair);
            let waiter = spawn::<P, _, _>("waiter", move || {
                let wait = || {
                    let (flag, raised) = &*theirs;
                    let guard = flag.lock();
                    let (_, timed_out) =
                        raised.wait_timeout(guard, std::time::Duration::from_millis(5));
                    timed_out.timed_out()
                };
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(wait)).ok()
            })
            .unwrap();
            *pair.0.lock() = true;
            pair.1.notify_one();
            waiter.join().unwrap()
        }
        let reports = [
            loom::explore(&LoomConfig::exhaustive(), caught_timed_wait::<Loom>, |_| {
                Ok(())
            }),
            shuttle::explore(
                &ShuttleConfig::random(200),
                caught_timed_wait::<Shuttle>,
                |_| Ok(()),
            ),
        ];
        for report in reports {
            let summary = report.summary();
            assert!(report.passed(), "{summary}");
            // The pass without the timer ends with the execution that needed it: loom's goes
            // no further than the next execution's start.
            let abandoned = Restarts {
                times: 1,
                executions: 1,
            };
            assert_eq!(report.restarts, Some(abandoned), "{summary}");
            let outcomes: Vec<_> = report.outcomes.keys().copied().collect();
            assert_eq!(outcomes, [Some(false), Some(true)], "{summary}");
        }
    }
}

/// 5. Confidence stated only where it holds.
mod confidence {
    use super::*;

    /// A `Relaxed` flag publishes a value: correct under SeqCst, wrong under weak memory.
    fn relaxed_publication<P: Primitives>() -> usize {
        let data = Arc::new(AtomicUsize::<P>::new(0));
        let flag = Arc::new(AtomicUsize::<P>::new(0));
        let (d, f) = (Arc::clone(&data), Arc::clone(&flag));
        let writer = spawn::<P, _, _>("writer", move || {
            d.store(42, Relaxed);
            f.store(1, Relaxed);
        })
        .unwrap();
        let seen = if flag.load(Relaxed) == 1 {
            data.load(Relaxed)
        } else {
            42
        };
        writer.join().unwrap();
        seen
    }

    #[test]
    fn pct_bound_is_scoped_to_what_shuttle_can_see() {
        let pct = ShuttleConfig::pct(3, 1000);
        let invariant = |seen: &usize| match *seen {
            42 => Ok(()),
            other => Err(format!("saw {other}")),
        };
        let report = shuttle::explore(&pct, relaxed_publication::<Shuttle>, invariant);
        // Shuttle passes it: every atomic is SeqCst there. Loom does not.
        assert!(report.passed(), "{}", report.summary());
        let bound = report.pct_miss_bound.unwrap().to_string();
        assert!(bound.contains("schedule bugs only"), "{bound}");
        assert!(
            bound.contains("weak memory") && bound.contains("data races"),
            "{bound}"
        );
        assert!(report
            .blind_spots
            .iter()
            .any(|s| s.starts_with("weak memory")));
        assert!(report
            .blind_spots
            .iter()
            .any(|s| s.contains("data races on plain memory")));
        assert!(report.summary().contains("cannot see: weak memory"));
        let loom = loom::explore(
            &LoomConfig::exhaustive(),
            relaxed_publication::<Loom>,
            invariant,
        );
        assert_eq!(loom.failure_kind(), Some(FailureKind::InvariantViolated));
    }

    #[test]
    fn a_vacuous_pct_bound_says_so() {
        let report = shuttle::explore(
            &ShuttleConfig::pct(3, 20),
            || bumps::<Shuttle>(100),
            |_| Ok(()),
        );
        let bound = report.pct_miss_bound.unwrap();
        assert_eq!(bound.threads, 101, "{bound}");
        assert!(bound.is_vacuous());
        assert!(bound.to_string().contains("= 1.000 (vacuous:"), "{bound}");
    }

    /// A spin nobody ends: each execution is cut at the step limit, which is a budget (issue 20
    /// E.18): no failure, the report says it was bounded and why, and it goes on exploring.
    #[test]
    fn a_step_limit_is_a_budget_not_a_failure() {
        let spin = || {
            let flag = AtomicUsize::<Shuttle>::new(0);
            while flag.load(SeqCst) == 0 {
                threadproof::sync::yield_now::<Shuttle>();
            }
        };
        let config = ShuttleConfig::random(3).max_steps(500);
        let report = shuttle::explore(&config, spin, |_| Ok(()));
        assert_eq!(report.failure, None, "{}", report.summary());
        assert_eq!(report.executions, 3, "{}", report.summary());
        assert_eq!(report.coverage, Coverage::BudgetExhausted);
        let summary = report.summary();
        assert!(
            summary.contains("the end of 3 executions cut at the step limit of 500 steps"),
            "{summary}"
        );
        // Every execution cut: the invariant judged none, and that is no pass. (Mutant
        // caught: `passed` asking only for executions, as before.)
        assert!(report.outcomes.is_empty(), "{summary}");
        assert!(!report.passed(), "{summary}");
        assert!(
            summary.contains("no execution ran to its end, so none was judged: not a pass"),
            "{summary}"
        );
        // And a check! made of it has not passed, its table saying why.
        let verdicts = threadproof::check::Verdicts {
            reports: vec![(threadproof::explore::CheckerKind::Random, report)],
            replay_with: "replay",
        };
        assert!(!verdicts.passed());
        let table = verdicts.table();
        assert!(
            table.contains("nothing judged: every execution cut"),
            "{table}"
        );
    }

    /// A bound on the chance of having missed a bug says nothing once one is found.
    #[test]
    fn a_pct_report_that_found_a_bug_has_no_miss_bound() {
        let report = shuttle::explore(&ShuttleConfig::pct(3, 1000), lost_update::<Shuttle>, two);
        assert!(report.failure.is_some(), "{}", report.summary());
        assert_eq!(report.pct_miss_bound, None);
        assert!(
            !report.summary().contains("P(missed"),
            "{}",
            report.summary()
        );
    }

    #[test]
    fn loom_states_its_bounds_with_the_verdict() {
        let config = LoomConfig::exhaustive().preemption_bound(2);
        let report = loom::explore(&config, crate::support::writer_reader::<Loom>, |_| Ok(()));
        assert!(report.passed());
        let summary = report.summary();
        assert!(
            summary.contains("cannot see: executions with more than 2 preemptions"),
            "{summary}"
        );
        assert!(summary.contains("spurious wakeups"), "{summary}");
        assert!(
            summary.contains("more than 4 threads besides main"),
            "{summary}"
        );
    }
}

/// `threads` threads each bump a counter under a lock; correct at any size.
fn bumps<P: Primitives>(threads: usize) -> usize {
    let counter = Arc::new(Mutex::<P, usize>::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|i| {
            let c = Arc::clone(&counter);
            spawn::<P, _, _>(format!("bumper-{i}"), move || *c.lock() += 1).unwrap()
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    let total = *counter.lock();
    total
}

/// 6. Replay for everyone.
mod replay {
    use super::*;

    fn replays_in_one_line<P: Primitives>(checker: Checker) {
        let found = check(&checker, lost_update::<P>, two);
        let failure = found.failure.expect("the lost update is found");
        let token = failure.replay.to_string();
        assert!(
            failure.explain().contains(&format!(
                "threadproof::explore::replay(\"{token}\", body, invariant)"
            )),
            "{}",
            failure.explain()
        );
        // The one line:
        let replayed = explore::replay(&token, lost_update::<P>, two);
        let again = replayed.failure.expect("the token reproduces the failure");
        assert_eq!(again.kind, failure.kind);
        assert_eq!(again.message, failure.message);
        assert_eq!(again.trace, failure.trace);
        assert_eq!(again.replay.to_string(), token);
        assert_eq!(replayed.executions, failure.replay.execution);
    }

    #[test]
    fn a_loom_failure_in_user_code_replays_from_its_token() {
        replays_in_one_line::<Loom>(loom_checker());
    }

    #[test]
    fn a_shuttle_failure_in_user_code_replays_from_its_token() {
        replays_in_one_line::<Shuttle>(random_checker());
        replays_in_one_line::<Shuttle>(Checker::Shuttle(ShuttleConfig::pct(3, 1000)));
    }

    /// A lost update beside a thread that waits with a timeout unless it sees exactly one
    /// increment: the
    /// exploration starts again with the timer once that wait is reached, and finds the lost
    /// update in that pass, on a path where the wait is not reached. The token says
    /// the timer ran (`timer=on`), and replays with it from its first execution, never
    /// starting again: the same failure, the same trace. (Mutant caught: the flag ignored, as
    /// before it existed: both replays start again, here after reaching the timed wait. A
    /// replay that reached none would run without the timer's thread, the ids of the threads
    /// after it shifted by one: this test does not build that case.)
    fn a_token_found_with_the_timer_replays_with_it<P: Primitives>(checker: Checker) {
        fn sometimes_timed<P: Primitives>() -> u32 {
            let counter = Arc::new(Mutex::<P, u32>::new(0));
            let pair = Arc::new((Mutex::<P, bool>::new(false), Condvar::<P>::new()));
            let increment = |counter: &Mutex<P, u32>| {
                let seen = *counter.lock();
                *counter.lock() = seen + 1;
            };
            let (c, theirs) = (Arc::clone(&counter), Arc::clone(&pair));
            let waiter = spawn::<P, _, _>("waiter", move || {
                if *c.lock() != 1 {
                    let (flag, raised) = &*theirs;
                    let guard = flag.lock();
                    drop(raised.wait_timeout(guard, std::time::Duration::from_millis(5)));
                }
            })
            .unwrap();
            let c = Arc::clone(&counter);
            let other = spawn::<P, _, _>("other", move || increment(&c)).unwrap();
            // Without the timer's thread, `idle` takes the id `other` had with it.
            let idle = spawn::<P, _, _>("idle", || {}).unwrap();
            increment(&counter);
            other.join().unwrap();
            waiter.join().unwrap();
            idle.join().unwrap();
            let total = *counter.lock();
            total
        }
        let found = check(&checker, sometimes_timed::<P>, two);
        let summary = found.summary();
        assert!(found.restarts.is_some(), "{summary}");
        let failure = found.failure.expect(&summary);
        let token = failure.replay.to_string();
        assert!(token.contains(":timer=on"), "{token}");
        let replayed = explore::replay(&token, sometimes_timed::<P>, two);
        assert_eq!(replayed.restarts, None, "{}", replayed.summary());
        let again = replayed.failure.expect("the token reproduces the failure");
        assert_eq!(again.message, failure.message);
        assert_eq!(again.trace, failure.trace);
        assert_eq!(again.replay.to_string(), token);
    }

    #[test]
    fn a_failure_found_with_the_timer_replays_with_it() {
        a_token_found_with_the_timer_replays_with_it::<Loom>(loom_checker());
        a_token_found_with_the_timer_replays_with_it::<Shuttle>(random_checker());
    }

    #[test]
    fn a_malformed_token_replays_nothing() {
        let report = explore::replay("loom:plan=nonsense@1", lost_update::<Loom>, two);
        assert_eq!(report.executions, 0);
        assert!(!report.passed());
        assert!(report
            .unsupported()
            .unwrap()
            .reason
            .contains("not a replay token"));
    }
}

/// 7. The simplest failure first.
mod simplest {
    use super::*;

    /// Three threads take turns (Thread-i waits for turn i) on one condvar woken with
    /// `notify_one`: with three waiters the wrong one can be woken, and everyone sleeps.
    pub(super) fn turns_notify_one<P: Primitives>() -> Vec<usize> {
        let state = Arc::new((
            Mutex::<P, (usize, Vec<usize>)>::named("turn", (0, Vec::new())),
            Condvar::<P>::named("changed"),
        ));
        let threads: Vec<_> = (0..3)
            .map(|me| {
                let state = Arc::clone(&state);
                spawn::<P, _, _>(format!("Thread-{me}"), move || {
                    let mut guard = state.0.lock();
                    while guard.0 != me {
                        guard = state.1.wait(guard);
                    }
                    guard.1.push(me);
                    guard.0 += 1;
                    drop(guard);
                    state.1.notify_one();
                })
                .unwrap()
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let order = state.0.lock().1.clone();
        order
    }

    #[test]
    fn loom_reports_the_failure_at_the_smallest_preemption_bound() {
        let report = loom::explore(&LoomConfig::exhaustive(), turns_notify_one::<Loom>, |_| {
            Ok(())
        });
        let failure = report.failure.expect("the lost wakeup deadlocks");
        assert_eq!(failure.kind, FailureKind::Deadlock);
        let minimal = failure.minimal.clone().unwrap();
        assert_eq!(minimal.proof, Minimality::Proven);
        assert!(failure
            .explain()
            .contains(&format!("minimal: {} preemption", minimal.preemptions)));
        // The token replays it at that bound, and one bound less finds nothing at all.
        assert!(failure
            .replay
            .to_string()
            .contains(&format!("preemptions={}", minimal.preemptions)));
        assert!(minimal.preemptions >= 1);
        let below = LoomConfig::exhaustive().preemption_bound(minimal.preemptions - 1);
        let below = loom::explore(&below, turns_notify_one::<Loom>, |_| Ok(()));
        assert!(below.passed(), "{}", below.summary());
        // The trace names the user's objects.
        let text = failure.trace.unwrap().columns();
        assert!(
            text.contains("lock turn") && text.contains("wait changed"),
            "{text}"
        );
    }

    #[test]
    fn shuttle_shrinks_to_as_few_preemptions_as_loom_proves_necessary() {
        let loom_minimal = loom::explore(&LoomConfig::exhaustive(), lost_update::<Loom>, two)
            .failure
            .unwrap()
            .minimal
            .unwrap();
        for checker in [
            random_checker(),
            Checker::Shuttle(ShuttleConfig::pct(3, 1000)),
        ] {
            let report = check(&checker, lost_update::<Shuttle>, two);
            let failure = report.failure.expect("found");
            let minimal = failure.minimal.clone().unwrap();
            assert!(
                matches!(minimal.proof, Minimality::Shrunk { .. }),
                "{minimal}"
            );
            assert_eq!(
                minimal.preemptions,
                loom_minimal.preemptions,
                "{}",
                failure.explain()
            );
            assert!(
                failure.explain().contains("minimal: 1 preemption, "),
                "{}",
                failure.explain()
            );
        }
    }

    /// A failure shrunk to no preemption, by a shrinking that finished, and shown with its
    /// trace: the trace, and the failure explained.
    fn shrunk_and_traced(failure: &explore::Failure) -> (&Trace, String) {
        let explained = failure.explain();
        let minimal = failure.minimal.as_ref().expect("a shrunk failure");
        assert_eq!(minimal.preemptions, 0, "{explained}");
        assert!(
            matches!(minimal.proof, Minimality::Shrunk { .. }),
            "{explained}"
        );
        let trace = failure
            .trace
            .as_ref()
            .expect("the shown execution is traced");
        (trace, explained)
    }

    /// Two threads that count to three on atomics of their own: schedules with switches to
    /// shrink away, joined by the caller.
    fn busy_threads<P: Primitives>() -> Vec<threadproof::sync::JoinHandle<P, ()>> {
        (0..2)
            .map(|i| {
                let count = Arc::new(AtomicUsize::<P>::new(0));
                spawn::<P, _, _>(format!("busy-{i}"), move || {
                    for _ in 0..3 {
                        count.fetch_add(1, SeqCst);
                    }
                })
                .unwrap()
            })
            .collect()
    }

    /// A waiter that checks its flag with `if`, not `while`: only a spurious wakeup lets it
    /// go on before main sets the flag, once it has joined two busy threads, which give the
    /// schedules switches to shrink away.
    fn waits_with_if<P: Primitives>() -> bool {
        let pair = Arc::new((Mutex::<P, bool>::new(false), Condvar::<P>::new()));
        let theirs = Arc::clone(&pair);
        let waiter = spawn::<P, _, _>("waiter", move || {
            let (flag, raised) = &*theirs;
            let mut guard = flag.lock();
            if !*guard {
                guard = raised.wait(guard);
            }
            *guard
        })
        .unwrap();
        let busy = busy_threads::<P>();
        // Main blocks on the joins first: a failing schedule needs no preemption.
        for thread in busy {
            thread.join().unwrap();
        }
        *pair.0.lock() = true;
        pair.1.notify_one();
        waiter.join().unwrap()
    }

    /// Shrinking replays a schedule's spurious wakeups as the exploration drew them: the
    /// failure that needs one shrinks to no preemption, and the execution shown is traced
    /// (the exploration records none: the shown one is replayed with its trace). Mutants
    /// caught: the replays run without the exploration's policy of faults (no wakeup is ever
    /// spurious in them, nothing shrinks, and the shown execution, not reproduced, had no
    /// trace).
    #[test]
    fn shuttle_shrinks_a_failure_that_needs_a_spurious_wakeup() {
        for config in [
            ShuttleConfig::random(1000),
            ShuttleConfig::pct(3, 1000),
            ShuttleConfig::urw(1000),
        ] {
            let config = config.spurious_one_in(4);
            let saw_the_flag = |saw: &bool| match saw {
                true => Ok(()),
                false => Err("the waiter went on before the flag was set".to_string()),
            };
            let report = shuttle::explore(&config, waits_with_if::<Shuttle>, saw_the_flag);
            let failure = report.failure.expect("the spurious wakeup is found");
            let (trace, explained) = shrunk_and_traced(&failure);
            assert_eq!(failure.minimal.as_ref().unwrap().spurious_wakeups, 1);
            assert!(
                trace.events.iter().any(|e| e.thread.as_ref() == "waiter"),
                "{explained}"
            );
            assert!(
                explained.contains("the failing interleaving"),
                "{explained}"
            );
            let token = failure.replay.to_string();
            let replayed = explore::replay(&token, waits_with_if::<Shuttle>, saw_the_flag);
            let again = replayed.failure.expect("the token reproduces the failure");
            assert_eq!(again.trace, failure.trace, "{token}");
        }
    }

    /// A worker picks one of three values, after two busy threads were spawned: the failing
    /// value is a choice, not a schedule, and the schedules around it shrink away.
    fn picks_a_value<P: Primitives>() -> usize {
        let busy = busy_threads::<P>();
        let picker = spawn::<P, _, _>("picker", || threadproof::sync::choose::<P>(3)).unwrap();
        for thread in busy {
            thread.join().unwrap();
        }
        picker.join().unwrap()
    }

    /// Shrinking replays the values a schedule chose as the exploration drew them. Mutant
    /// caught: the replays run without the exploration's policy (every choice is 0 in them:
    /// nothing shrinks, and the execution shown, not reproduced, has no trace).
    #[test]
    fn shuttle_shrinks_a_failure_that_needs_a_chosen_value() {
        let not_two = |value: &usize| match value {
            2 => Err("the picker chose 2".to_string()),
            _ => Ok(()),
        };
        let report = shuttle::explore(
            &ShuttleConfig::random(1000),
            picks_a_value::<Shuttle>,
            not_two,
        );
        let failure = report.failure.expect("the value 2 is chosen");
        let (trace, explained) = shrunk_and_traced(&failure);
        assert!(
            (trace.events.iter()).any(|e| e.op == Op::Choose && e.thread.as_ref() == "picker"),
            "{explained}"
        );
    }

    /// Two threads, each waiting on its own condvar guarded by `if` (not `while`) for its own
    /// flag, which the main thread sets in order: the outcome says which of them saw its flag.
    /// A thread that woke spuriously did not.
    fn two_waiters<P: Primitives>() -> (bool, bool) {
        type Flag<P> = (Mutex<P, bool>, Condvar<P>);
        let flags: Arc<[Flag<P>; 2]> =
            Arc::new(std::array::from_fn(|_| (Mutex::new(false), Condvar::new())));
        let waiters: Vec<_> = ["first", "second"]
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                let flags = Arc::clone(&flags);
                spawn::<P, _, _>(name, move || {
                    let (lock, cv) = &flags[i];
                    let mut set = lock.lock();
                    if !*set {
                        set = cv.wait(set);
                    }
                    *set
                })
                .unwrap()
            })
            .collect();
        for (lock, cv) in flags.iter() {
            *lock.lock() = true;
            cv.notify_one();
        }
        let mut seen = waiters.into_iter().map(|w| w.join().unwrap());
        (seen.next().unwrap(), seen.next().unwrap())
    }

    /// Each thread's spurious wakeup is found, under the plan naming that thread's first wait
    /// (the same wait in every interleaving, where a global wait ordinal named different
    /// waits in different interleavings). Before this change, loom explored "every placement
    /// of one spurious wakeup" of this body and passed it when the invariant asked `first` not
    /// to spur: the spurious branch yielded before relocking, and loom runs every other
    /// thread before a yielder, so the main thread always set `first`'s flag before `first`
    /// could look at it again.
    #[test]
    fn spurious_plans_are_keyed_by_thread_and_ordinal() {
        for (who, key) in [("first", "t0#0"), ("second", "t1#0")] {
            let loom = LoomConfig::exhaustive().spurious_wakeups(1);
            let report = loom::explore(&loom, two_waiters::<Loom>, move |seen| {
                let saw = if who == "first" { seen.0 } else { seen.1 };
                match saw {
                    true => Ok(()),
                    false => Err(format!("{who} woke spuriously")),
                }
            });
            let summary = report.summary();
            let failure = report.failure.unwrap_or_else(|| panic!("{summary}"));
            assert_eq!(failure.message, format!("{who} woke spuriously"));
            assert_eq!(failure.spurious_plan.as_ref().unwrap().to_string(), key);
            assert_eq!(failure.minimal.unwrap().spurious_wakeups, 1);
            let plan = format!(":plan={key}@");
            assert!(
                failure.replay.to_string().contains(&plan),
                "{}",
                failure.replay
            );
        }
    }
}

/// A lost update: the increment reads and writes back under separate locks.
fn lost_update<P: Primitives>() -> u32 {
    let counter = Arc::new(Mutex::<P, u32>::new(0));
    let increment = |counter: &Mutex<P, u32>| {
        let seen = *counter.lock();
        *counter.lock() = seen + 1;
    };
    let c = Arc::clone(&counter);
    let other = spawn::<P, _, _>("other", move || increment(&c)).unwrap();
    increment(&counter);
    other.join().unwrap();
    let total = *counter.lock();
    total
}

fn two(total: &u32) -> Result<(), String> {
    match *total {
        2 => Ok(()),
        lost => Err(format!("lost an increment: {lost}")),
    }
}

/// Issue 20 D: where a failure was found and what the execution shown shows, each with its
/// own outcome; the exploration counted apart from the search for a simpler failure.
mod consistent {
    use super::*;

    /// Three threads append their number under a lock: the outcome is the order, which
    /// differs between the schedule a random search first fails on and the shrunk one.
    fn appends<P: Primitives>() -> Vec<usize> {
        let order = Arc::new(Mutex::<P, Vec<usize>>::new(Vec::new()));
        let threads: Vec<_> = (0..3)
            .map(|i| {
                let order = Arc::clone(&order);
                spawn::<P, _, _>(format!("T{i}"), move || order.lock().push(i)).unwrap()
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let order = order.lock().clone();
        order
    }

    fn in_spawn_order(order: &Vec<usize>) -> Result<(), String> {
        match order.as_slice() {
            [0, 1, 2] => Ok(()),
            _ => Err(format!("order {order:?}")),
        }
    }

    /// D.10: "at execution N" comes with execution N's own outcome (one the exploration
    /// counted), and the shrunk execution's outcome is said apart, as what the token replays.
    #[test]
    fn a_shrunk_failure_says_where_it_was_found_and_what_the_shrunk_one_shows() {
        // The first seeds whose first failing schedule shrinks to another order.
        let (report, failure, first) = (0..20)
            .find_map(|seed| {
                let config = ShuttleConfig::random(1000).seed(seed);
                let report = shuttle::explore(&config, appends::<Shuttle>, in_spawn_order);
                let failure = report.failure.clone().expect("an order out of spawn order");
                let first = failure.found.clone()?;
                Some((report, failure, first))
            })
            .expect("a seed whose shrunk execution shows another order");
        let explained = failure.explain();
        assert_ne!(first.message, failure.message, "{explained}");
        // Execution N's message is about an outcome that execution N reached.
        let reached = |message: &str| {
            report
                .outcomes
                .keys()
                .any(|order| message == format!("order {order:?}"))
        };
        assert!(
            reached(&first.message),
            "{explained}\n{:?}",
            report.outcomes
        );
        assert!(
            explained.starts_with(&format!(
                "invariant violated at execution {}: {}\n",
                failure.execution, first.message
            )),
            "{explained}"
        );
        assert!(
            explained.contains(&format!(
                "the token replays: invariant violated: {}",
                failure.message
            )),
            "{explained}"
        );
        // And the token does replay the shrunk one.
        let replayed = explore::replay(
            &failure.replay.to_string(),
            appends::<Shuttle>,
            in_spawn_order,
        );
        assert_eq!(replayed.failure.unwrap().message, failure.message);
    }

    /// D.11: the exploration found the failure at execution N exactly (a budget of N - 1
    /// finds nothing); the search for the smallest failing bound is counted apart.
    #[test]
    fn loom_counts_the_exploration_apart_from_the_search_for_the_smallest_bound() {
        let body = super::simplest::turns_notify_one::<Loom>;
        let report = loom::explore(&LoomConfig::exhaustive(), body, |_| Ok(()));
        let failure = report.failure.clone().expect("the lost wakeup deadlocks");
        assert_eq!(failure.execution, report.executions, "{}", report.summary());
        let search = report
            .simplest_search
            .expect("a search for a smaller bound ran");
        assert!(search > 0);
        assert!(
            report.summary().contains(&format!(
                "{search} more executions searched for the simplest failure"
            )),
            "{}",
            report.summary()
        );
        let cut = LoomConfig::exhaustive().budget(Budget::executions(failure.execution - 1));
        let cut = loom::explore(&cut, body, |_| Ok(()));
        assert_eq!(cut.failure, None, "{}", cut.summary());
        let exact = LoomConfig::exhaustive().budget(Budget::executions(failure.execution));
        let exact = loom::explore(&exact, body, |_| Ok(()));
        assert_eq!(
            exact.failure_kind(),
            Some(FailureKind::Deadlock),
            "{}",
            exact.summary()
        );
    }
}

/// 8. Readable at scale.
mod at_scale {
    use super::*;

    /// 100 threads increment a named counter, read and write back under separate locks.
    fn hundred_lost_updates<P: Primitives>() -> usize {
        let board = Arc::new(Mutex::<P, usize>::named("board", 0));
        let threads: Vec<_> = (0..100)
            .map(|i| {
                let board = Arc::clone(&board);
                spawn::<P, _, _>(format!("T{i}"), move || {
                    let seen = *board.lock();
                    *board.lock() = seen + 1;
                })
                .unwrap()
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let total = *board.lock();
        total
    }

    #[test]
    fn a_failure_among_100_threads_shows_the_threads_involved() {
        let report = shuttle::explore(
            &ShuttleConfig::random(100),
            hundred_lost_updates::<Shuttle>,
            |total| match *total {
                100 => Ok(()),
                lost => Err(format!("{lost} of 100 increments")),
            },
        );
        let failure = report.failure.expect("an update is lost");
        let explained = failure.explain();
        let trace = failure.trace.as_ref().unwrap();
        assert_eq!(trace.threads().len(), 101);
        let shown = trace.shown_threads();
        assert!(shown.len() <= Trace::MAX_COLUMNS, "{shown:?}");
        assert!(shown.contains(&"main"), "{shown:?}");
        let header = explained.lines().find(|l| l.contains(" # |")).unwrap();
        assert!(
            header.contains("98 other threads"),
            "the others fold: {header}"
        );
        assert!(
            explained.contains(" steps of "),
            "folded rows count the steps"
        );
        // Thousands of rows across 101 columns were megabytes; now it is a page or two.
        assert!(explained.len() < 200_000, "{} bytes", explained.len());
        // The user's name for the lock, in the trace (the swimlane's test is the binary's).
        assert!(explained.contains("lock board"), "{explained}");
    }
}

/// Loom treats SeqCst accesses as Acquire/Release: threadproof fences them, so correct
/// sequentially consistent code does not fail there.
mod seq_cst {
    use super::*;

    /// Store buffering: each thread stores its flag and loads the other's.
    fn store_buffering<P: Primitives>(
        store: std::sync::atomic::Ordering,
        load: std::sync::atomic::Ordering,
    ) -> (usize, usize) {
        let x = Arc::new(AtomicUsize::<P>::new(0));
        let y = Arc::new(AtomicUsize::<P>::new(0));
        let (x2, y2) = (Arc::clone(&x), Arc::clone(&y));
        let other = spawn::<P, _, _>("other", move || {
            y2.store(1, store);
            x2.load(load)
        })
        .unwrap();
        x.store(1, store);
        let seen_y = y.load(load);
        let seen_x = other.join().unwrap();
        (seen_x, seen_y)
    }

    fn not_both_zero(seen: &(usize, usize)) -> Result<(), String> {
        match seen {
            (0, 0) => Err("both loads saw 0: not sequentially consistent".into()),
            _ => Ok(()),
        }
    }

    #[test]
    fn seq_cst_store_buffering_never_sees_both_zero_under_loom() {
        let report = loom::explore(
            &LoomConfig::exhaustive(),
            || store_buffering::<Loom>(SeqCst, SeqCst),
            not_both_zero,
        );
        assert!(report.passed(), "{}", report.summary());
        assert_eq!(report.outcomes.len(), 3, "(0,1), (1,0), (1,1)");
        // Release/Acquire allows it, and loom still shows it: the fences are for SeqCst only.
        let weaker = loom::explore(
            &LoomConfig::exhaustive(),
            || store_buffering::<Loom>(Release, Acquire),
            not_both_zero,
        );
        assert_eq!(weaker.failure_kind(), Some(FailureKind::InvariantViolated));
    }
}

mod side_by_side {
    use std::collections::BTreeSet;
    use std::sync::{Condvar as StdCondvar, Mutex as StdMutex};
    use std::time::Duration;

    use threadproof::check::Portfolio;
    use threadproof::explore::{Budget, CheckerKind};
    use threadproof::verdicts;

    /// Every row's first execution waits (on a real condvar, outside the model) until all four
    /// rows have started one: run one after another, the first row would give up after a
    /// minute and find only itself. The table still lists loom, random, PCT, URW in order.
    #[test]
    fn the_rows_of_a_check_run_at_once_and_keep_their_order() {
        static STARTED: StdMutex<BTreeSet<String>> = StdMutex::new(BTreeSet::new());
        static ALL_IN: StdCondvar = StdCondvar::new();
        let portfolio = Portfolio::with_iterations(20).budget(Budget::executions(20));
        let verdicts = verdicts!(with portfolio; {
            // A model operation, so that the body is checked at all.
            thread::spawn(|| ()).join().unwrap();
            // Each row explores on an OS thread of its own.
            let row = format!("{:?}", ::std::thread::current().id());
            let mut started = STARTED.lock().unwrap();
            if started.insert(row) {
                ALL_IN.notify_all();
                while started.len() < 4 {
                    let (again, timeout) =
                        ALL_IN.wait_timeout(started, Duration::from_secs(60)).unwrap();
                    started = again;
                    if timeout.timed_out() {
                        break;
                    }
                }
            }
            started.len()
        }, |rows| *rows == 4);
        assert_eq!(
            STARTED.lock().unwrap().len(),
            4,
            "four rows, four OS threads"
        );
        assert!(verdicts.passed(), "{}", verdicts.table());
        let kinds: Vec<CheckerKind> = verdicts.reports.iter().map(|(kind, _)| *kind).collect();
        assert_eq!(
            kinds,
            [
                CheckerKind::Loom,
                CheckerKind::Random,
                CheckerKind::Pct,
                CheckerKind::Urw
            ]
        );
    }
}
