//! The std mirror's modelled `Arc` and `Weak`: a drop, an upgrade and a `try_unwrap` are
//! operations every checker interleaves and traces (`Arc#1.strong`), and an `Arc` still held
//! when an execution ends fails it as a leak, naming the line that made it. Each planted bug is
//! caught by every checker and its fix passes; outside a checker the mirror's `Arc` is std's.

use std::panic::{catch_unwind, AssertUnwindSafe};

use threadproof::check::{Portfolio, Verdicts};
use threadproof::explore::FailureKind;
use threadproof::std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use threadproof::std::sync::{Arc, LazyLock, Mutex, Weak};
use threadproof::std::thread;
use threadproof::{check, verdicts};

/// Every checker, few shuttle schedules: the bodies are small.
fn portfolio() -> Portfolio {
    Portfolio::with_iterations(300)
}

/// Every checker of the portfolio found a failure; the texts of the failures, one per checker.
fn caught_by_all<O>(verdicts: &Verdicts<O>) -> Vec<String> {
    assert!(!verdicts.reports.is_empty());
    verdicts
        .reports
        .iter()
        .map(|(kind, report)| {
            let failure = report.failure.as_ref().unwrap_or_else(|| {
                panic!("{kind} missed the bug:\n{}", verdicts.explain());
            });
            failure.explain()
        })
        .collect()
}

/// Two workers each drop their clone of the shared value and then say they are done; the
/// owner waits for both, then takes the value back with `try_unwrap`. `buggy`: a worker says
/// it is done *before* its clone is dropped (the clone lives to the end of its closure), so
/// the owner can find a clone still alive.
fn unwrap_after_workers(buggy: bool) -> Option<u32> {
    let shared = Arc::new(7u32);
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (mine, done) = (Arc::clone(&shared), Arc::clone(&done));
            thread::spawn(move || {
                let seen = *mine;
                if !buggy {
                    drop(mine);
                }
                done.fetch_add(1, Ordering::SeqCst);
                seen
            })
        })
        .collect();
    while done.load(Ordering::SeqCst) < 2 {
        thread::yield_now();
    }
    let value = Arc::try_unwrap(shared).ok();
    for worker in workers {
        worker.join().unwrap();
    }
    value
}

#[test]
fn try_unwrap_racing_a_clone_not_yet_dropped_is_caught_and_the_fix_passes() {
    let got_it = |value: &Option<u32>| *value == Some(7);
    check!(with portfolio(); unwrap_after_workers(false), got_it);
    let verdicts = verdicts!(with portfolio(); unwrap_after_workers(true), got_it);
    for text in caught_by_all(&verdicts) {
        // The drop that came too late is in the trace, on the clone's count.
        assert!(text.contains("Arc#1.strong"), "{text}");
    }
    // Some executions get the value: the checkers explored the drop on both sides of it.
    for (kind, report) in &verdicts.reports {
        assert!(
            report.outcomes.contains_key(&Some(7)) || report.failure.is_some(),
            "{kind}: {:?}",
            report.outcomes
        );
    }
}

/// A cache entry published through a `Weak`: the owner drops the last `Arc` while a reader
/// upgrades. `buggy`: the reader `unwrap`s the upgrade, assuming the entry is still held.
fn upgrade_after_drop(buggy: bool) -> bool {
    let entry = Arc::new(String::from("entry"));
    let weak: Weak<String> = Arc::downgrade(&entry);
    let reader = thread::spawn(move || match weak.upgrade() {
        Some(entry) => entry.len() == 5,
        None if buggy => panic!("the entry was gone"),
        None => true,
    });
    drop(entry);
    reader.join().unwrap()
}

#[test]
fn upgrade_after_the_last_strong_drop_is_caught_and_the_fix_passes() {
    check!(with portfolio(); upgrade_after_drop(false), |ok| *ok);
    let verdicts = verdicts!(with portfolio(); upgrade_after_drop(true), |ok| *ok);
    for text in caught_by_all(&verdicts) {
        assert!(text.contains("the entry was gone"), "{text}");
        // The drop of the last `Arc`, before the upgrade.
        assert!(text.contains("fetch_sub Arc#1.strong 1 → 0"), "{text}");
    }
}

/// A parent and child that point to each other. `buggy`: both links are `Arc`s, a cycle that
/// keeps both alive; fixed: the child's link to its parent is a `Weak`.
struct Node {
    parent: Mutex<Option<Link>>,
    child: Mutex<Option<Arc<Node>>>,
}

enum Link {
    Strong(Arc<Node>),
    Weak(Weak<Node>),
}

fn tree(buggy: bool) -> bool {
    let parent = Arc::new(Node {
        parent: Mutex::new(None),
        child: Mutex::new(None),
    });
    let child = Arc::new(Node {
        parent: Mutex::new(None),
        child: Mutex::new(None),
    });
    let linker = {
        let (parent, child) = (Arc::clone(&parent), Arc::clone(&child));
        thread::spawn(move || {
            let link = if buggy {
                Link::Strong(Arc::clone(&parent))
            } else {
                Link::Weak(Arc::downgrade(&parent))
            };
            *child.parent.lock().unwrap() = Some(link);
        })
    };
    *parent.child.lock().unwrap() = Some(Arc::clone(&child));
    linker.join().unwrap();
    let linked = match &*child.parent.lock().unwrap() {
        Some(Link::Strong(p)) => Arc::ptr_eq(p, &parent),
        Some(Link::Weak(p)) => p.upgrade().is_some_and(|p| Arc::ptr_eq(&p, &parent)),
        None => false,
    };
    linked
}

#[test]
fn an_arc_cycle_is_reported_as_a_leak_with_its_line_and_the_weak_fix_passes() {
    check!(with portfolio(); tree(false), |linked| *linked);
    let verdicts = verdicts!(with portfolio(); tree(true), |linked| *linked);
    // `Arc::new` of the parent: the first `Arc` of the body.
    let line = include_str!("mirror_arc.rs")
        .lines()
        .position(|l| l.contains("let parent = Arc::new(Node {"))
        .expect("the line")
        + 1;
    let made_at = format!("tests/mirror_arc.rs:{line}");
    for (kind, report) in &verdicts.reports {
        let failure = report.failure.as_ref().expect("caught");
        assert_eq!(failure.kind, FailureKind::Panicked, "{kind}");
        assert_eq!(
            failure.message,
            format!(
                "Arc leaked: Arc#1, made at {made_at}, still had 1 strong reference when the \
                 execution ended (a reference cycle, or an Arc forgotten) (and 1 other Arc)"
            ),
            "{kind}"
        );
        let location = failure.location.as_deref().unwrap_or_default();
        assert!(location.starts_with(&made_at), "{kind}: {location}");
    }
}

/// A counter every execution shares through a `static`: built once per execution, held by the
/// static for good, so not a leak.
static HITS: LazyLock<Arc<AtomicUsize>> = LazyLock::new(|| Arc::new(AtomicUsize::new(0)));

#[test]
fn an_arc_held_by_a_static_lazy_lock_is_not_a_leak() {
    let verdicts = check!(with portfolio(); {
        let t = thread::spawn(|| HITS.fetch_add(1, Ordering::SeqCst));
        let mine = HITS.fetch_add(1, Ordering::SeqCst);
        let clone = Arc::clone(&HITS);
        let theirs = t.join().unwrap();
        (mine + theirs, clone.load(Ordering::SeqCst))
    }, |seen| *seen == (1, 2));
    for (kind, report) in &verdicts.reports {
        assert!(report.executions > 1, "{kind} ran one execution only");
    }
}

/// `get_mut` and `make_mut` as std's: unique only while no other `Arc` or `Weak` exists;
/// `make_mut` clones when shared and detaches the `Weak`s when only they share.
#[test]
fn get_mut_make_mut_and_counts_are_stds_under_every_checker() {
    let body = || {
        let mut a = Arc::new(1);
        let unique = Arc::get_mut(&mut a).map(|v| *v += 1).is_some();
        let b = Arc::clone(&a);
        let shared = Arc::get_mut(&mut a).is_none();
        *Arc::make_mut(&mut a) += 10; // shared with `b`: cloned
        let w = Arc::downgrade(&b);
        let counts = (Arc::strong_count(&b), Arc::weak_count(&b), w.strong_count());
        let mut b = b;
        *Arc::make_mut(&mut b) += 100; // only `w` shares it: moved, `w` detached
        let detached = w.upgrade().is_none() && w.weak_count() == 0;
        let values = (
            *a,
            *b,
            Arc::into_inner(a),
            Weak::<u8>::new().upgrade().is_none(),
        );
        (unique, shared, counts, detached, values)
    };
    let expected = (true, true, (1, 1, 1), true, (12, 102, Some(12), true));
    check!(with portfolio(); body(), move |o| *o == expected);
    // And outside any checker: std's behaviour.
    assert_eq!(body(), expected);
}

/// Of two threads calling `into_inner` on the last two clones, exactly one gets the value.
#[test]
fn into_inner_gives_the_value_to_exactly_one_thread() {
    let body = || {
        let a = Arc::new(5);
        let b = Arc::clone(&a);
        let other = thread::spawn(move || Arc::into_inner(b));
        let mine = Arc::into_inner(a);
        let theirs = other.join().unwrap();
        usize::from(mine.is_some()) + usize::from(theirs.is_some())
    };
    let verdicts = check!(with portfolio(); body(), |one| *one == 1);
    let loom = &verdicts.reports[0].1;
    assert!(loom.executions > 1, "loom explored one order only");
}

/// Outside a checker the mirror's `Arc` is std's: the drop of the last clone drops the value,
/// a cycle is not checked, and a panic's unwinding drops clones as std's do.
#[test]
fn outside_a_checker_the_arc_is_stds() {
    let dropped = std::sync::Arc::new(AtomicBool::new(false));
    struct Flag(std::sync::Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let a = Arc::new(Flag(std::sync::Arc::clone(&dropped)));
    let b = Arc::clone(&a);
    let caught = catch_unwind(AssertUnwindSafe(move || {
        let _b = b;
        panic!("unwinds through the clone");
    }));
    assert!(caught.is_err());
    assert_eq!(Arc::strong_count(&a), 1);
    drop(a);
    assert!(dropped.load(Ordering::SeqCst));
    assert!(
        tree(true),
        "a cycle outside a checker is std's: not checked"
    );
}

/// The conversions std offers into `Arc<[T]>` and `Arc<str>` (`collect`, from a slice, from an
/// array, the empty defaults) and `Arc<E>` as an `Error`, on the mirror's `Arc`, modelled under
/// every checker: a thread sums a shared slice while main drops its handle.
#[test]
fn slices_and_errors_convert_into_an_arc_as_std_s_do() {
    #[derive(Debug)]
    struct Failed;
    impl std::fmt::Display for Failed {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("failed")
        }
    }
    impl std::error::Error for Failed {}
    let body = || {
        let collected: Arc<[u32]> = (1..=3).collect();
        let copied: Arc<[u32]> = Arc::from(&[4u32, 5][..]);
        let array: Arc<[u32]> = Arc::from([6u32]);
        let shared = Arc::clone(&collected);
        let summer = thread::spawn(move || shared.iter().sum::<u32>());
        drop(collected);
        let empty: (Arc<str>, Arc<[u8]>) = (Arc::default(), Arc::default());
        let error: Arc<Failed> = Arc::new(Failed);
        let as_error: &dyn std::error::Error = &error;
        (
            summer.join().unwrap(),
            copied.iter().chain(array.iter()).sum::<u32>(),
            empty.0.len() + empty.1.len(),
            as_error.to_string(),
        )
    };
    let outside = body();
    assert_eq!(outside, (6, 15, 0, "failed".to_string()));
    let verdicts = check!(with portfolio(); body(), move |outcome| *outcome == outside);
    assert!(verdicts.reports.iter().all(|(_, r)| r.executions > 0));
}
