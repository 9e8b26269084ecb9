//! The thread pool's API on the production backends (`Std` and `ParkingLot`), one test per
//! promise, each run on both:
//!
//! - `result()` returns the task's value, blocking until there is one;
//! - a panicking task's `result()` is `TaskError::Panicked` with the panic's message (`&str`
//!   and `String` payloads), and the pool keeps all its workers: afterwards every worker still
//!   runs tasks; a panic in the drop of a task's payload, or of its value once its future is
//!   gone, fails nothing more;
//! - `as_completed` yields each future exactly once, in completion order (tasks released in a
//!   chosen order come out in that order), futures done before the call first;
//! - `map` keeps input order whatever the completion order;
//! - at most `workers` tasks run at once, and `workers` do run at once;
//! - `shutdown` and drop return only after every submitted task has run; `shutdown` is
//!   idempotent, and a concurrent second caller also waits;
//! - `submit` and `map` after shutdown are `Err(ShutDown)`, not a panic;
//! - zero workers is `PoolError::Config`;
//! - a task can submit more tasks to its own pool.

#[macro_use]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use threadproof::sync::{ParkingLot, Primitives, Std};
use threadproof::thread_pool::{as_completed, PoolError, ShutDown, TaskError, ThreadPool};

on_both_backends!(
    result_returns_the_value,
    result_blocks_until_done,
    panics_become_errors_and_workers_survive,
    a_panic_in_a_task_s_payload_or_value_drop_fails_nothing_more,
    as_completed_yields_in_completion_order,
    as_completed_yields_finished_futures_first,
    as_completed_yields_each_future_once,
    map_keeps_input_order,
    workers_are_bounded,
    shutdown_waits_for_all_work,
    drop_waits_for_all_work,
    shutdown_is_idempotent_and_concurrent_callers_wait,
    submit_after_shutdown_is_an_error,
    tasks_can_submit_tasks,
);

fn result_returns_the_value<P: Primitives>() {
    let pool = ThreadPool::<P>::new(3).unwrap();
    assert_eq!(pool.workers(), 3);
    let future = pool
        .submit(|| "https://google.com".to_string() + "10")
        .unwrap();
    assert_eq!(future.result(), Ok("https://google.com10".to_string()));
}

fn result_blocks_until_done<P: Primitives>() {
    let pool = ThreadPool::<P>::new(1).unwrap();
    let (release, released) = mpsc::channel::<()>();
    let future = pool
        .submit(move || {
            released.recv().unwrap();
            42
        })
        .unwrap();
    assert!(!future.is_done());
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        release.send(()).unwrap();
    });
    assert_eq!(future.result(), Ok(42));
    releaser.join().unwrap();
}

fn panics_become_errors_and_workers_survive<P: Primitives>() {
    const WORKERS: usize = 3;
    let pool = ThreadPool::<P>::new(WORKERS).unwrap();
    // More panics than workers: a worker that died with its task would leave fewer.
    let str_panics: Vec<_> = (0..2 * WORKERS)
        .map(|_| pool.submit(|| -> u32 { panic!("boom") }).unwrap())
        .collect();
    let string_panic = pool
        .submit(|| -> u32 { panic!("{} failed", "task 7") })
        .unwrap();
    for future in str_panics {
        assert_eq!(future.result(), Err(TaskError::Panicked("boom".into())));
    }
    let error = string_panic.result().unwrap_err();
    assert_eq!(error, TaskError::Panicked("task 7 failed".into()));
    assert_eq!(error.to_string(), "task panicked: task 7 failed");
    // Every worker is still alive: WORKERS tasks that only finish once all of them run at once.
    let barrier = Arc::new(Barrier::new(WORKERS));
    let all: Vec<_> = (0..WORKERS)
        .map(|i| {
            let barrier = Arc::clone(&barrier);
            pool.submit(move || {
                barrier.wait();
                i
            })
            .unwrap()
        })
        .collect();
    let done: Vec<usize> = all.into_iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(done, [0, 1, 2]);
}

/// What panics when dropped: a task's panic payload, or its value.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("a bomb went off in its drop");
    }
}

/// A task's panic payload whose drop panics, and a value whose drop panics once nobody holds
/// its future (the worker drops it), fail only their own task: the one worker goes on to run
/// the tasks behind them. (Mutant caught: the payload dropped outside any `catch_unwind`, as
/// before, ends the worker, and the task behind it never completes.)
fn a_panic_in_a_task_s_payload_or_value_drop_fails_nothing_more<P: Primitives>() {
    let pool = ThreadPool::<P>::new(1).unwrap();
    let payload = pool
        .submit(|| -> u32 { std::panic::panic_any(Bomb) })
        .unwrap();
    // Dropped before it can complete: the worker drops the value.
    let (release, released) = mpsc::channel::<()>();
    drop(
        pool.submit(move || {
            released.recv().unwrap();
            Bomb
        })
        .unwrap(),
    );
    release.send(()).unwrap();
    let behind = pool.submit(|| 7).unwrap();
    let (done, finished) = mpsc::channel();
    thread::spawn(move || done.send(behind.result()).unwrap());
    let result = finished.recv_timeout(Duration::from_secs(60));
    assert_eq!(result, Ok(Ok(7)), "the task behind them never completed");
    let failed = payload.result();
    assert!(
        matches!(&failed, Err(TaskError::Panicked(m)) if m.contains("not a string")),
        "{failed:?}"
    );
}

/// Four tasks, each blocked until released, released in the order 2, 0, 3, 1: `as_completed`
/// yields them in exactly that order.
fn as_completed_yields_in_completion_order<P: Primitives>() {
    let pool = ThreadPool::<P>::new(4).unwrap();
    let mut releases = Vec::new();
    let futures: Vec<_> = (0..4)
        .map(|i| {
            let (release, released) = mpsc::channel::<()>();
            releases.push(release);
            pool.submit(move || {
                released.recv().unwrap();
                i
            })
            .unwrap()
        })
        .collect();
    let mut completed = as_completed(futures);
    assert_eq!(completed.len(), 4);
    for i in [2, 0, 3, 1] {
        releases[i].send(()).unwrap();
        let future = completed.next().expect("a future per task");
        assert!(future.is_done());
        assert_eq!(future.result(), Ok(i));
    }
    assert!(completed.next().is_none());
}

/// Futures already done when `as_completed` is called come first, in the order given.
fn as_completed_yields_finished_futures_first<P: Primitives>() {
    let pool = ThreadPool::<P>::new(2).unwrap();
    let (release, released) = mpsc::channel::<()>();
    let pending = pool
        .submit(move || {
            released.recv().unwrap();
            "pending"
        })
        .unwrap();
    let done = pool.submit(|| "done").unwrap();
    while !done.is_done() {
        thread::yield_now();
    }
    let mut completed = as_completed([pending, done]);
    assert_eq!(completed.next().unwrap().result(), Ok("done"));
    release.send(()).unwrap();
    assert_eq!(completed.next().unwrap().result(), Ok("pending"));
    assert!(completed.next().is_none());
}

fn as_completed_yields_each_future_once<P: Primitives>() {
    let pool = ThreadPool::<P>::new(3).unwrap();
    for tasks in [0, 1, 5, 100] {
        let futures: Vec<_> = (0..tasks)
            .map(|i| pool.submit(move || i).unwrap())
            .collect();
        let mut seen: Vec<usize> = as_completed(futures)
            .map(|future| future.result().unwrap())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..tasks).collect::<Vec<_>>());
    }
}

/// The first input takes longest: completion order is not input order, `map`'s order is.
fn map_keeps_input_order<P: Primitives>() {
    let pool = ThreadPool::<P>::new(4).unwrap();
    let results: Vec<_> = pool
        .map(
            |ms: u64| {
                thread::sleep(Duration::from_millis(ms));
                ms * 2
            },
            [40, 30, 20, 10, 0],
        )
        .unwrap()
        .collect();
    assert_eq!(results, [Ok(80), Ok(60), Ok(40), Ok(20), Ok(0)]);
    // A panicking input fails only its own place.
    let results: Vec<_> = pool
        .map(
            |x: u32| {
                assert!(x != 2, "no twos");
                x
            },
            0..4,
        )
        .unwrap()
        .collect();
    assert_eq!(
        results,
        [
            Ok(0),
            Ok(1),
            Err(TaskError::Panicked("no twos".into())),
            Ok(3)
        ]
    );
}

/// 3 workers, 12 tasks that each stay a while: never more than 3 at once, and 3 at once seen.
fn workers_are_bounded<P: Primitives>() {
    let pool = ThreadPool::<P>::new(3).unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let futures: Vec<_> = (0..12)
        .map(|_| {
            let (running, most) = (Arc::clone(&running), Arc::clone(&most));
            pool.submit(move || {
                let now = running.fetch_add(1, SeqCst) + 1;
                most.fetch_max(now, SeqCst);
                thread::sleep(Duration::from_millis(10));
                running.fetch_sub(1, SeqCst);
            })
            .unwrap()
        })
        .collect();
    for future in futures {
        future.result().unwrap();
    }
    assert_eq!(most.load(SeqCst), 3);
}

/// Slow tasks queued far beyond the workers: `shutdown` returns only once all of them ran.
fn shutdown_waits_for_all_work<P: Primitives>() {
    let pool = ThreadPool::<P>::new(2).unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..10 {
        let ran = Arc::clone(&ran);
        // Futures dropped at once: the work must happen anyway.
        drop(pool.submit(move || {
            thread::sleep(Duration::from_millis(5));
            ran.fetch_add(1, SeqCst);
        }));
    }
    pool.shutdown();
    assert_eq!(ran.load(SeqCst), 10);
    assert!(pool.is_shut_down());
}

fn drop_waits_for_all_work<P: Primitives>() {
    let ran = Arc::new(AtomicUsize::new(0));
    let futures = {
        let pool = ThreadPool::<P>::new(3).unwrap();
        (0..9)
            .map(|i| {
                let ran = Arc::clone(&ran);
                pool.submit(move || {
                    thread::sleep(Duration::from_millis(5));
                    ran.fetch_add(1, SeqCst);
                    i
                })
                .unwrap()
            })
            .collect::<Vec<_>>()
        // The pool is dropped here, as Python leaves `with ThreadPoolExecutor(3)`.
    };
    assert_eq!(ran.load(SeqCst), 9);
    // The futures outlive the pool.
    assert!(futures.iter().all(|f| f.is_done()));
    let results: Vec<_> = futures.into_iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(results, (0..9).collect::<Vec<_>>());
}

fn shutdown_is_idempotent_and_concurrent_callers_wait<P: Primitives>() {
    let pool = Arc::new(ThreadPool::<P>::new(1).unwrap());
    let ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..5 {
        let ran = Arc::clone(&ran);
        drop(pool.submit(move || {
            thread::sleep(Duration::from_millis(10));
            ran.fetch_add(1, SeqCst);
        }));
    }
    let callers: Vec<_> = (0..2)
        .map(|_| {
            let (pool, ran) = (Arc::clone(&pool), Arc::clone(&ran));
            thread::spawn(move || {
                pool.shutdown();
                ran.load(SeqCst)
            })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.join().unwrap(), 5, "a shutdown returned early");
    }
    pool.shutdown();
    assert_eq!(ran.load(SeqCst), 5);
}

fn submit_after_shutdown_is_an_error<P: Primitives>() {
    let pool = ThreadPool::<P>::new(2).unwrap();
    assert!(!pool.is_shut_down());
    pool.shutdown();
    let refused = pool.submit(|| 1).unwrap_err();
    assert_eq!(refused, ShutDown);
    assert_eq!(
        refused.to_string(),
        "the pool has been shut down: it takes no more tasks"
    );
    assert_eq!(pool.map(|x: u32| x, [1, 2]).err(), Some(ShutDown));
}

/// A task holding the pool submits a follow-up task and waits for it (there is a second
/// worker to run it).
fn tasks_can_submit_tasks<P: Primitives>() {
    let pool = Arc::new(ThreadPool::<P>::new(2).unwrap());
    let inner = Arc::clone(&pool);
    let outer = pool
        .submit(move || inner.submit(|| 20).unwrap().result().unwrap() + 1)
        .unwrap();
    assert_eq!(outer.result(), Ok(21));
}

#[test]
fn zero_workers_is_a_config_error() {
    for error in [
        ThreadPool::<Std>::new(0).unwrap_err(),
        ThreadPool::<ParkingLot>::new(0).unwrap_err(),
    ] {
        assert!(matches!(error, PoolError::ZeroWorkers), "{error:?}");
        assert_eq!(error.to_string(), "a pool needs at least 1 worker");
    }
}
