//! The std mirror (`threadproof::std`) as a user meets it: plain std code, written against
//! std's paths and signatures, checked by `check!` under every checker with one compiled body.
//! Each library below has a planted bug (its mutant, chosen by a flag) that every checker
//! catches, and the fix that passes; then poisoning, fresh statics, `ThreadId` and
//! `thread_local!` per model thread, and the mirror outside any checker (plain std).

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};

use threadproof::check::{Portfolio, Verdicts};
use threadproof::std::sync::atomic::{AtomicUsize, Ordering};
use threadproof::std::sync::mpsc::{self, Receiver};
use threadproof::std::sync::{Arc, Condvar, Mutex, OnceLock, RwLock};
use threadproof::std::thread;
use threadproof::{check, verdicts};

/// Every checker, few shuttle schedules: the bodies are small.
fn portfolio() -> Portfolio {
    Portfolio::with_iterations(300)
}

/// Every checker of the portfolio found a failure (none skipped the body).
fn caught_by_all<O>(verdicts: &Verdicts<O>) {
    for (kind, report) in &verdicts.reports {
        assert!(
            report.failure.is_some(),
            "{kind} missed the mutant:\n{}",
            verdicts.explain()
        );
    }
}

/// A user's library, std-shaped: what a crate would write behind the two-line swap.
mod library {
    use super::*;

    /// A bounded queue on a `Mutex` and two `Condvar`s. `buggy`: waits with `if`, not `while`,
    /// so a spurious wakeup (or a stolen slot) pops from an empty queue.
    pub struct BoundedQueue<T> {
        items: Mutex<VecDeque<T>>,
        not_empty: Condvar,
        not_full: Condvar,
        capacity: usize,
        buggy: bool,
    }

    impl<T> BoundedQueue<T> {
        pub fn new(capacity: usize, buggy: bool) -> Self {
            BoundedQueue {
                items: Mutex::new(VecDeque::new()),
                not_empty: Condvar::new(),
                not_full: Condvar::new(),
                capacity,
                buggy,
            }
        }

        pub fn push(&self, item: T) {
            let mut items = self.items.lock().unwrap();
            while items.len() == self.capacity {
                items = self.not_full.wait(items).unwrap();
            }
            items.push_back(item);
            self.not_empty.notify_one();
        }

        pub fn pop(&self) -> Option<T> {
            let mut items = self.items.lock().unwrap();
            if self.buggy {
                // MUTANT if-not-while: one wait, whatever woke it.
                if items.is_empty() {
                    items = self.not_empty.wait(items).unwrap();
                }
            } else {
                items = self.not_empty.wait_while(items, |i| i.is_empty()).unwrap();
            }
            let item = items.pop_front();
            self.not_full.notify_one();
            item
        }
    }

    #[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
    pub struct Config {
        pub workers: usize,
    }

    pub static CONFIG: OnceLock<Config> = OnceLock::new();
    pub static CONFIG_BUILDS: AtomicUsize = AtomicUsize::new(0);

    fn build_config() -> Config {
        CONFIG_BUILDS.fetch_add(1, Ordering::SeqCst);
        Config { workers: 4 }
    }

    /// The process-wide configuration, built once. `buggy`: check-then-set, two threads
    /// may both build it.
    pub fn config(buggy: bool) -> &'static Config {
        if buggy {
            // MUTANT check-then-act.
            if CONFIG.get().is_none() {
                let _ = CONFIG.set(build_config());
            }
            CONFIG.get().unwrap()
        } else {
            CONFIG.get_or_init(build_config)
        }
    }

    /// A memoising cache on an `RwLock`. `buggy`: does not look again under the write lock,
    /// so two threads that missed both compute.
    pub struct Cache {
        map: RwLock<HashMap<u32, u32>>,
        pub computed: AtomicUsize,
        buggy: bool,
    }

    impl Cache {
        pub fn new(buggy: bool) -> Self {
            Cache {
                map: RwLock::new(HashMap::new()),
                computed: AtomicUsize::new(0),
                buggy,
            }
        }

        pub fn get(&self, key: u32) -> u32 {
            if let Some(value) = self.map.read().unwrap().get(&key) {
                return *value;
            }
            let mut map = self.map.write().unwrap();
            if !self.buggy {
                if let Some(value) = map.get(&key) {
                    return *value;
                }
            }
            // MUTANT no-recheck: the buggy cache computes again here.
            self.computed.fetch_add(1, Ordering::Relaxed);
            let value = key * 10;
            map.insert(key, value);
            value
        }
    }

    /// Squares `jobs` on two workers fed through a `sync_channel(1)`; the results' sum.
    /// `buggy`: collects with `try_iter`, which does not wait for the workers.
    pub fn pool_sum(jobs: &[u64], buggy: bool) -> u64 {
        let (job_tx, job_rx) = mpsc::sync_channel::<u64>(1);
        let (result_tx, result_rx) = mpsc::channel::<u64>();
        let job_rx: Arc<Mutex<Receiver<u64>>> = Arc::new(Mutex::new(job_rx));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let job_rx = Arc::clone(&job_rx);
                let result_tx = result_tx.clone();
                thread::spawn(move || loop {
                    let job = job_rx.lock().unwrap().recv();
                    match job {
                        Ok(n) => result_tx.send(n * n).unwrap(),
                        Err(_) => break,
                    }
                })
            })
            .collect();
        drop(result_tx);
        for job in jobs {
            job_tx.send(*job).unwrap();
        }
        drop(job_tx);
        let sum = if buggy {
            // MUTANT try-iter: whatever has arrived by now.
            result_rx.try_iter().sum()
        } else {
            result_rx.iter().sum()
        };
        for worker in workers {
            worker.join().unwrap();
        }
        sum
    }
}

use library::*;

fn queue_body(buggy: bool) -> Vec<Option<u32>> {
    let queue = Arc::new(BoundedQueue::new(1, buggy));
    let producer = {
        let queue = Arc::clone(&queue);
        thread::spawn(move || {
            queue.push(1);
            queue.push(2);
        })
    };
    let popped = vec![queue.pop(), queue.pop()];
    producer.join().unwrap();
    popped
}

#[test]
fn condvar_queue_fixed_passes_and_if_not_while_is_caught() {
    let ok = |popped: &Vec<Option<u32>>| *popped == [Some(1), Some(2)];
    check!(with portfolio(); queue_body(false), ok);
    caught_by_all(&verdicts!(with portfolio(); queue_body(true), ok));
}

fn config_body(buggy: bool) -> (usize, usize) {
    let other = thread::spawn(move || config(buggy).workers);
    let mine = config(buggy).workers;
    let theirs = other.join().unwrap();
    (mine + theirs, CONFIG_BUILDS.load(Ordering::SeqCst))
}

/// Also the proof that statics are fresh in every execution: were `CONFIG` not, every
/// execution after the first would build nothing (0 builds); were `CONFIG_BUILDS` not, they
/// would count on from the last (2, 3, ...).
#[test]
fn static_once_lock_config_is_built_once_per_execution_and_check_then_set_is_caught() {
    let once = |(workers, builds): &(usize, usize)| *workers == 8 && *builds == 1;
    let verdicts = check!(with portfolio(); config_body(false), once);
    for (kind, report) in &verdicts.reports {
        assert!(report.executions > 1, "{kind} ran one execution only");
    }
    caught_by_all(&verdicts!(with portfolio(); config_body(true), once));
}

fn cache_body(buggy: bool) -> (u32, u32, usize) {
    let cache = Arc::new(Cache::new(buggy));
    let other = {
        let cache = Arc::clone(&cache);
        thread::spawn(move || cache.get(7))
    };
    let mine = cache.get(7);
    let theirs = other.join().unwrap();
    (mine, theirs, cache.computed.load(Ordering::Relaxed))
}

#[test]
fn rwlock_cache_computes_once_and_missing_recheck_is_caught() {
    let once = |outcome: &(u32, u32, usize)| *outcome == (70, 70, 1);
    check!(with portfolio(); cache_body(false), once);
    caught_by_all(&verdicts!(with portfolio(); cache_body(true), once));
}

#[test]
fn sync_channel_pool_sums_every_job_and_try_iter_is_caught() {
    let all = |sum: &u64| *sum == 1 + 4;
    check!(with portfolio(); pool_sum(&[1, 2], false), all);
    caught_by_all(&verdicts!(with portfolio(); pool_sum(&[1, 2], true), all));
}

/// A panic under the guard poisons, as std's; `into_inner` and `clear_poison` as std's. Loom
/// is left out: its own `Mutex` cannot be locked again after a panic under its guard (see
/// `threadproof::std`'s docs).
#[test]
fn a_panic_under_the_guard_poisons_the_mutex() {
    let body = || {
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
    };
    let verdicts =
        check!(with portfolio().without_loom(); body(), |o| *o == (true, true, 102, true));
    assert!(verdicts.reports.iter().all(|(_, r)| r.executions > 0));
    // And outside any checker: std's behaviour.
    assert_eq!(body(), (true, true, 102, true));
}

static HITS: AtomicUsize = AtomicUsize::new(0);
static SEEN: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A static atomic starts at its initial value in every execution, under every checker.
#[test]
fn static_atomics_start_fresh_in_every_execution() {
    let verdicts = check!(with portfolio(); {
        let t = thread::spawn(|| HITS.fetch_add(1, Ordering::SeqCst));
        let mine = HITS.fetch_add(1, Ordering::SeqCst);
        let theirs = t.join().unwrap();
        mine.min(theirs)
    }, |first| *first == 0);
    for (kind, report) in &verdicts.reports {
        assert!(report.executions > 1, "{kind} ran one execution only");
    }
}

/// A static `Mutex` cannot be rebuilt: the report says so, and so does a pass, which prints
/// its notes (a blind spot alone is printed only with a failure). (Mutant caught: the notes
/// without it, as before.)
#[test]
fn a_static_mutex_is_listed_as_not_rebuilt() {
    let verdicts = check!(with portfolio(); {
        let t = thread::spawn(|| SEEN.lock().unwrap().push(1));
        SEEN.lock().unwrap().push(2);
        t.join().unwrap();
    });
    for (kind, report) in &verdicts.reports {
        assert!(
            report
                .blind_spots
                .iter()
                .any(|s| s.contains("static Mutex")),
            "{kind}: {:?}",
            report.blind_spots
        );
    }
    assert!(verdicts.passed());
    let notes = verdicts.notes();
    assert!(
        notes.iter().any(|n| n.starts_with(
            "threadproof::check!: every execution after the first saw the data of a static Mutex"
        )),
        "{notes:?}"
    );
}

threadproof::thread_local! {
    static COUNT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    static DROPS_ON_EXIT: Tracker = Tracker;
}

static TRACKER_DROPS: AtomicUsize = AtomicUsize::new(0);

struct Tracker;

impl Drop for Tracker {
    fn drop(&mut self) {
        TRACKER_DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

/// Each model thread has its own thread-locals (dropped when its body returns) and its own
/// `ThreadId`, which its `JoinHandle` knows too.
#[test]
fn thread_ids_and_thread_locals_are_per_model_thread() {
    let body = || {
        let main = thread::current().id();
        let spawn = || {
            thread::spawn(|| {
                DROPS_ON_EXIT.with(|_| ());
                COUNT.set(COUNT.get() + 1);
                COUNT.set(COUNT.get() + 1);
                (thread::current().id(), COUNT.get())
            })
        };
        let (a, b) = (spawn(), spawn());
        let (a_id, b_id) = (a.thread().id(), b.thread().id());
        let (a_self, a_count) = a.join().unwrap();
        let (b_self, b_count) = b.join().unwrap();
        COUNT.set(COUNT.get() + 1);
        let distinct = main != a_id && a_id != b_id && main != b_id;
        let known = a_id == a_self && b_id == b_self;
        (
            distinct,
            known,
            a_count,
            b_count,
            COUNT.get(),
            TRACKER_DROPS.load(Ordering::SeqCst),
        )
    };
    check!(with portfolio(); body(), |o| *o == (true, true, 2, 2, 1, 2));
    // Plain std, outside the checkers: real threads, std's thread-locals.
    assert_eq!(body(), (true, true, 2, 2, 1, 2));
}

/// The same library code runs on real threads when no checker runs.
#[test]
fn outside_a_checker_the_mirror_is_std() {
    assert_eq!(queue_body(false), [Some(1), Some(2)]);
    assert_eq!(pool_sum(&[1, 2, 3], false), 14);
    let (mine, theirs, computed) = cache_body(false);
    assert_eq!((mine, theirs), (70, 70));
    assert!(computed == 1);
    let scoped = thread::scope(|s| {
        let h = s.spawn(|| thread::current().id());
        h.join().unwrap() != thread::current().id()
    });
    assert!(scoped);
}

/// Scoped threads borrow, `Builder` names a thread, `park`/`unpark` hand over, as in std,
/// under every checker.
#[test]
fn scope_builder_and_park_work_under_every_checker() {
    let body = || {
        let total = Mutex::new(0);
        thread::scope(|s| {
            s.spawn(|| *total.lock().unwrap() += 1);
            *total.lock().unwrap() += 1;
        });
        let named = thread::Builder::new()
            .name("worker".to_string())
            .stack_size(1 << 20)
            .spawn(|| thread::current().name().map(str::to_string))
            .unwrap();
        let flag = Arc::new(AtomicUsize::new(0));
        let parked = {
            let flag = Arc::clone(&flag);
            thread::spawn(move || {
                while flag.load(Ordering::Acquire) == 0 {
                    thread::park();
                }
            })
        };
        flag.store(1, Ordering::Release);
        parked.thread().unpark();
        parked.join().unwrap();
        let total = total.into_inner().unwrap();
        (total, named.join().unwrap())
    };
    let expected = (2, Some("worker".to_string()));
    check!(with portfolio(); body(), move |o| *o == expected);
    assert_eq!(body(), (2, Some("worker".to_string())));
}

// ---- No silent pass (issue 17 §3) and the time limit inside one execution (issue 20 C.7) ----

use std::time::Duration;

use threadproof::explore::{self, Budget, Coverage, ShuttleConfig};

/// One execution that would never end (a memory-light spin on an atomic, every step a model
/// step) ends at the exploration's time limit, as a budget cut: not a hang, not a failure.
#[test]
fn one_long_execution_ends_at_the_time_limit_as_a_budget_cut() {
    let mut config = ShuttleConfig::random(10)
        .max_steps(usize::MAX)
        .budget(Budget::time(Duration::from_secs(2)));
    config.record_traces = false;
    let report = explore::shuttle::explore(
        &config,
        || {
            let spins = AtomicUsize::new(0);
            while spins.fetch_add(1, Ordering::Relaxed) < usize::MAX - 1 {}
            0
        },
        |_: &i32| Ok(()),
    );
    assert!(report.failure.is_none(), "{}", report.summary());
    assert_eq!(
        report.coverage,
        Coverage::BudgetExhausted,
        "{}",
        report.summary()
    );
    assert_eq!(report.executions, 1, "{}", report.summary());
    assert!(
        report.summary().contains("bounded (budget)"),
        "{}",
        report.summary()
    );
}

/// A body blocked on something outside the model (a plain std channel nobody sends on) is
/// reported `blocked outside the checker` by every checker, naming the thread and its last
/// model step, instead of hanging.
#[test]
fn a_body_blocked_outside_the_checker_is_reported_not_hung() {
    let portfolio = portfolio().budget(Budget::executions(100).stall_after(Duration::from_secs(2)));
    let verdicts = verdicts!(with portfolio; {
        let ready = AtomicUsize::new(0);
        ready.store(1, Ordering::SeqCst);
        let (_keep, never) = ::std::sync::mpsc::channel::<()>();
        never.recv().unwrap();
        0
    });
    assert!(!verdicts.passed(), "{}", verdicts.explain());
    for (kind, report) in &verdicts.reports {
        let why = report
            .unsupported()
            .unwrap_or_else(|| panic!("{kind}: {}", report.summary()));
        assert!(
            why.reason
                .starts_with("blocked outside the checker: thread `main`"),
            "{kind}: {why}"
        );
        let detail = why.detail.as_deref().unwrap_or_default();
        assert!(
            detail.contains("its last model step: store at tests/mirror.rs:"),
            "{kind}: {why}"
        );
    }
}

/// A body still on std's own primitives and threads makes no model operation: it is not a
/// pass ("exhaustive after 1 execution" before), and every row says why.
#[test]
fn a_body_on_std_primitives_is_not_a_silent_pass() {
    let verdicts = verdicts!(with portfolio(); {
        let total = ::std::sync::Arc::new(::std::sync::Mutex::new(0));
        let other = ::std::sync::Arc::clone(&total);
        ::std::thread::spawn(move || *other.lock().unwrap() += 1).join().unwrap();
        let total = *total.lock().unwrap();
        total
    });
    assert!(!verdicts.passed(), "{}", verdicts.explain());
    for (kind, report) in &verdicts.reports {
        let why = report
            .unsupported()
            .unwrap_or_else(|| panic!("{kind}: {}", report.summary()));
        assert!(
            why.reason
                .contains("nothing to check: the body made no operation the checker sees"),
            "{kind}: {why}"
        );
    }
    let failed = catch_unwind(|| {
        check!(with portfolio(); ::std::sync::Mutex::new(1).into_inner().unwrap());
    });
    let message = failed.expect_err("check! passed a body the checkers cannot see");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("nothing to check"), "{message}");
}

/// A body that spawns no model thread is said to be one thread, and every report lists plain
/// memory among what it cannot see.
#[test]
fn a_single_thread_body_and_plain_memory_are_in_the_cannot_see_line() {
    let verdicts = check!(with portfolio(); {
        let counter = Mutex::new(0);
        *counter.lock().unwrap() += 1;
        let total = *counter.lock().unwrap();
        total
    });
    let explained = verdicts.explain();
    for (kind, report) in &verdicts.reports {
        let spots = report.blind_spots.join("; ");
        assert!(
            spots.contains("the body spawned no model thread"),
            "{kind}: {spots}"
        );
        assert!(
            spots.contains("plain memory (Box, raw pointers, std::cell, static mut)"),
            "{kind}: {spots}"
        );
    }
    assert!(explained.contains("cannot see:"), "{explained}");
    assert!(
        explained.contains("plain memory (Box, raw pointers"),
        "{explained}"
    );
    // A passing check! prints this beside its pass: it is not left to the report.
    assert_eq!(
        verdicts.notes(),
        [
            "threadproof::check!: other threads: the body spawned no model thread, so no \
          interleaving was explored (threads of std::thread are invisible)"
        ]
    );
}

/// A body on loom's own types, run by shuttle's schedulers, is a usage error saying so: not a
/// found bug with an empty trace and a replay line.
#[test]
fn another_checkers_types_are_a_usage_error() {
    let verdicts = verdicts!(with portfolio(); {
        let raw = threadproof::sync::loom::Mutex::new(0usize);
        let value = *raw.lock();
        value
    });
    let explained = verdicts.explain();
    assert!(!explained.contains("replay it"), "{explained}");
    for (kind, report) in &verdicts.reports {
        assert!(report.failure.is_none(), "{kind}: {}", report.summary());
        if kind.is_shuttle() {
            let why = report
                .unsupported()
                .unwrap_or_else(|| panic!("{kind}: {}", report.summary()));
            assert!(
                why.reason
                    .contains("usage error: the body uses loom's own types")
                    && why.reason.contains("shuttle ran it"),
                "{kind}: {why}"
            );
        }
    }
}

/// A Relaxed publication: a writer stores the data, then the flag, both `Relaxed`; the reader
/// sees the flag and reads the data, which may be stale. With `made_first`, main uses both
/// atomics before it spawns the writer.
fn relaxed_publication(made_first: bool) -> Option<usize> {
    let data = Arc::new(AtomicUsize::new(0));
    let ready = Arc::new(AtomicUsize::new(0));
    if made_first {
        data.load(Ordering::Relaxed);
        ready.load(Ordering::Relaxed);
    }
    let writer = {
        let (data, ready) = (Arc::clone(&data), Arc::clone(&ready));
        thread::spawn(move || {
            data.store(42, Ordering::Relaxed);
            ready.store(1, Ordering::Relaxed);
        })
    };
    let seen = if ready.load(Ordering::Relaxed) == 1 {
        Some(data.load(Ordering::Relaxed))
    } else {
        None
    };
    writer.join().unwrap();
    seen
}

/// Whether loom's report names what making a mirror object after the first spawn can hide.
fn says_made_late<O>(report: &explore::Report<O>) -> bool {
    report
        .blind_spots
        .iter()
        .any(|spot| spot.contains("threadproof::std objects made after the first spawn"))
}

/// Explores `own` (a body on threadproof's own loom primitives) and `mirror` (the same body
/// through the mirror) under `config` and `invariant`: both pass, with the same outcomes in
/// the same number of executions. Their reports, the mirror's first.
fn explored_alike<O, I>(
    config: &explore::LoomConfig,
    own: impl Fn() -> O + Send + Sync + 'static,
    mirror: impl Fn() -> O + Send + Sync + 'static,
    invariant: I,
) -> (explore::Report<O>, explore::Report<O>)
where
    O: Ord + std::fmt::Debug + Send + 'static,
    I: Fn(&O) -> Result<(), String> + Copy + Send + Sync + 'static,
{
    let own = explore::loom::explore(config, own, invariant);
    let mirror = explore::loom::explore(config, mirror, invariant);
    assert!(own.passed(), "{}", own.summary());
    assert!(mirror.passed(), "{}", mirror.summary());
    assert_eq!(mirror.outcomes, own.outcomes, "{}", mirror.summary());
    assert_eq!(mirror.executions, own.executions, "{}", mirror.summary());
    (mirror, own)
}

/// The publication through atomics the writer is the first to use: the mirror orders a
/// thread's first use of an object after its making, which can hide the bug from loom. Loom
/// either catches it or its report says it could not see it: never a silent pass.
#[test]
fn a_relaxed_publication_loom_may_not_see_is_named_in_its_report() {
    let verdicts = verdicts!(with Portfolio::with_iterations(50);
        relaxed_publication(false), |seen| *seen != Some(0));
    let (_, loom) = &verdicts.reports[0];
    assert!(
        loom.failure.is_some() || says_made_late(loom),
        "loom passed a Relaxed publication without saying what it could not see:\n{}",
        verdicts.explain()
    );
}

/// The same publication with both atomics used by main before it spawns the writer: the
/// spawn orders every thread after their making, the mirror adds no order of its own, and
/// loom finds the stale read, its report making no excuse.
#[test]
fn a_relaxed_publication_through_objects_made_before_the_spawn_is_caught_by_loom() {
    let verdicts = verdicts!(with Portfolio::with_iterations(50);
        relaxed_publication(true), |seen| *seen != Some(0));
    let (_, loom) = &verdicts.reports[0];
    assert!(loom.failure.is_some(), "{}", verdicts.explain());
    assert!(!says_made_late(loom), "{:?}", loom.blind_spots);
}

/// Loom explores the mirror's atomics that start at a value other than zero, made in main and
/// first used after the spawns (a flag that starts set, a count that starts at 5), as it
/// explores threadproof's own made there: the mirror's are made with their values before any
/// thread (the pool). (Mutant caught: such an atomic made at its first use and that use
/// ordered after its making, as before: 387 executions against 45.)
#[test]
fn loom_explores_the_mirror_s_atomics_set_at_making_as_it_explores_its_own() {
    use threadproof::explore::LoomConfig;

    macro_rules! flag_and_count {
        ($($paths:ident)::*) => {{
            use $($paths)::*::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
            let (open, left) = (AtomicBool::new(true), AtomicUsize::new(5));
            let shared = std::sync::Arc::new((open, left));
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    let shared = std::sync::Arc::clone(&shared);
                    $($paths)::*::thread::spawn(move || {
                        if shared.0.load(SeqCst) {
                            shared.1.fetch_sub(1, SeqCst);
                        }
                        shared.0.store(false, SeqCst);
                    })
                })
                .collect();
            for worker in workers {
                worker.join().unwrap();
            }
            shared.1.load(SeqCst)
        }};
    }
    let some_taken = |left: &usize| match left {
        3 | 4 => Ok(()),
        other => Err(format!("{other} left")),
    };
    explored_alike(
        &LoomConfig::exhaustive(),
        || flag_and_count!(threadproof::sync::loom),
        || flag_and_count!(threadproof::std::prelude),
        some_taken,
    );
}

/// An atomic made after a spawn with a value that differs in every execution (here a count
/// of executions the checker cannot see): the pool serves small values only, and an atomic
/// with another is made at its first use and ordered, so the exploration ends, as it does on
/// threadproof's own atomics. (Mutant caught: every value served: each execution needs a
/// value the plan lacks, the exploration starts again without end, and the time budget cuts
/// it.)
#[test]
fn an_atomic_made_with_a_new_value_in_every_execution_is_explored_to_the_end() {
    use std::time::Duration;
    use threadproof::explore::{Budget, LoomConfig};

    macro_rules! made_with_a_new_value {
        ($($paths:ident)::*) => {{
            use $($paths)::*::atomic::{AtomicUsize, Ordering::SeqCst};
            static EXECUTIONS: std::sync::atomic::AtomicUsize =
                std::sync::atomic::AtomicUsize::new(1);
            let shared = std::sync::Arc::new(AtomicUsize::new(0));
            let worker = {
                let shared = std::sync::Arc::clone(&shared);
                $($paths)::*::thread::spawn(move || shared.fetch_add(1, SeqCst))
            };
            let made = AtomicUsize::new(EXECUTIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
            let before = made.swap(0, SeqCst) > 0;
            worker.join().unwrap();
            (before, shared.load(SeqCst))
        }};
    }
    let config = LoomConfig::exhaustive().budget(Budget {
        max_time: Some(Duration::from_secs(20)),
        ..Budget::UNLIMITED
    });
    let all = |outcome: &(bool, usize)| match outcome {
        (true, 1) => Ok(()),
        other => Err(format!("{other:?}")),
    };
    explored_alike(
        &config,
        || made_with_a_new_value!(threadproof::sync::loom),
        || made_with_a_new_value!(threadproof::std::prelude),
        all,
    );
}

/// Loom explores the mirror's `RwLock`, made in main and first used after the spawns as most
/// are, as it explores threadproof's own `RwLock` made there: the mirror's lock is one made
/// before any thread (the pool), and its report says so. (Mutants caught: the lock made at
/// its first use and that use ordered after its making, as before: 41,322 executions against
/// 1,198; a pooled object taken without a word in the report.)
#[test]
fn loom_explores_the_mirror_s_rwlock_as_it_explores_its_own() {
    use threadproof::explore::LoomConfig;

    fn mirror() -> (u32, u32) {
        use threadproof::std::sync::RwLock;
        let lock = std::sync::Arc::new(RwLock::new(0u32));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let lock = std::sync::Arc::clone(&lock);
                threadproof::std::thread::spawn(move || *lock.write().unwrap() += 1)
            })
            .collect();
        let seen = *lock.read().unwrap();
        for writer in writers {
            writer.join().unwrap();
        }
        let total = *lock.read().unwrap();
        (seen, total)
    }
    fn own() -> (u32, u32) {
        use threadproof::sync::loom::{thread, RwLock};
        let lock = std::sync::Arc::new(RwLock::new(0u32));
        let writers: Vec<_> = (0..2)
            .map(|_| {
                let lock = std::sync::Arc::clone(&lock);
                thread::spawn(move || *lock.write() += 1)
            })
            .collect();
        let seen = *lock.read();
        for writer in writers {
            writer.join().unwrap();
        }
        let total = *lock.read();
        (seen, total)
    }
    let all_written = |outcome: &(u32, u32)| match outcome {
        (0..=2, 2) => Ok(()),
        other => Err(format!("{other:?}")),
    };
    let (mirror, own) = explored_alike(&LoomConfig::exhaustive(), own, mirror, all_written);
    // Made before any thread as loom sees it, after the spawns as the body does: said.
    assert!(says_made_late(&mirror), "{:?}", mirror.blind_spots);
    assert!(!says_made_late(&own), "{:?}", own.blind_spots);
}

/// Loom explores a std-shaped body through the mirror as it explores the same body on its own
/// primitives: the mirror adds no branch points of its own. (A counter: two workers add under
/// a `Mutex` made in main and locked first after the spawns, and count on an `AtomicUsize`.
/// With each first use ordered after the object's making, as before, loom ran 1,475,301
/// executions of it against raw loom's 10,830.)
#[test]
fn loom_explores_the_mirror_as_it_explores_its_own_primitives() {
    use std::sync::atomic::AtomicU64;
    use threadproof::explore::{self, LoomConfig};

    macro_rules! counter {
        ($($std:ident)::*) => {{
            use $($std)::*::sync::atomic::{AtomicUsize, Ordering::SeqCst};
            use $($std)::*::sync::{Arc, Mutex};
            let (total, passes) = (Arc::new(Mutex::new(0u32)), Arc::new(AtomicUsize::new(0)));
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    let (total, passes) = (Arc::clone(&total), Arc::clone(&passes));
                    $($std)::*::thread::spawn(move || {
                        for _ in 0..2 {
                            *total.lock().unwrap() += 1;
                        }
                        passes.fetch_add(1, SeqCst);
                    })
                })
                .collect();
            *total.lock().unwrap() += 1;
            for worker in workers {
                worker.join().unwrap();
            }
            let total = *total.lock().unwrap();
            (total, passes.load(SeqCst))
        }};
    }
    let raw = std::sync::Arc::new(AtomicU64::new(0));
    let counted = std::sync::Arc::clone(&raw);
    loom::model(move || {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(counter!(loom), (5, 2));
    });
    let raw = raw.load(std::sync::atomic::Ordering::Relaxed);
    let report = explore::loom::explore(
        &LoomConfig::exhaustive(),
        || counter!(threadproof::std),
        |outcome| match outcome {
            (5, 2) => Ok(()),
            other => Err(format!("{other:?}")),
        },
    );
    assert!(report.passed(), "{}", report.summary());
    assert_eq!(report.executions, raw, "{}", report.summary());
}
