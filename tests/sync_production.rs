//! The std-shaped surface on the production backends (`Std` and `ParkingLot`), on real threads:
//! each primitive keeps std's promise there, and the per-backend paths read like std. (Under
//! the checkers, `models/sync_checked.rs` shows the same items with their explored choices.)

#[macro_use]
mod common;

use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::{Duration, Instant};

use threadproof::sync::{
    choose, current, fence, park, park_timeout, scope, sleep, sync_channel, AtomicUsize, Barrier,
    Builder, Condvar, Mutex, Once, Primitives, RecvTimeoutError, RwLock, Semaphore, TryRecvError,
    TrySendError,
};

on_both_backends!(
    a_barrier_has_one_leader_per_generation_and_holds_everyone_until_all_arrive,
    a_semaphore_admits_at_most_its_permits,
    readers_share_an_rwlock_and_writers_exclude,
    try_lock_fails_while_another_thread_holds_the_lock,
    a_bounded_channel_holds_its_bound_and_a_rendezvous_waits_for_its_receiver,
    timed_waits_time_out_when_nothing_comes,
    an_unpark_before_the_park_is_kept,
    scoped_threads_borrow_and_a_panic_in_one_reaches_the_scope,
    threads_have_std_s_names,
    once_runs_once_across_threads,
    choose_sleep_and_fence_do_what_they_say,
);

fn a_barrier_has_one_leader_per_generation_and_holds_everyone_until_all_arrive<P: Primitives>() {
    const THREADS: usize = 4;
    let barrier = Arc::new(Barrier::<P>::new(THREADS));
    let arrived = Arc::new(AtomicUsize::<P>::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (barrier, arrived) = (Arc::clone(&barrier), Arc::clone(&arrived));
            std::thread::spawn(move || {
                let mut leaders = 0;
                for generation in 1..=3 {
                    arrived.fetch_add(1, SeqCst);
                    leaders += usize::from(barrier.wait().is_leader());
                    assert!(arrived.load(SeqCst) >= generation * THREADS);
                }
                leaders
            })
        })
        .collect();
    let leaders: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert_eq!(leaders, 3);
}

fn a_semaphore_admits_at_most_its_permits<P: Primitives>() {
    let permits = Arc::new(Semaphore::<P>::new(2));
    let inside = Arc::new(AtomicUsize::<P>::new(0));
    let most = Arc::new(AtomicUsize::<P>::new(0));
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let (permits, inside, most) =
                (Arc::clone(&permits), Arc::clone(&inside), Arc::clone(&most));
            std::thread::spawn(move || {
                for _ in 0..50 {
                    permits.acquire();
                    let now = inside.fetch_add(1, SeqCst) + 1;
                    most.fetch_max(now, SeqCst);
                    std::thread::yield_now();
                    inside.fetch_sub(1, SeqCst);
                    permits.release();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert!(most.load(SeqCst) <= 2);
    assert_eq!(permits.available_permits(), 2);
    assert!(permits.try_acquire() && permits.try_acquire());
    assert!(!permits.try_acquire());
}

fn readers_share_an_rwlock_and_writers_exclude<P: Primitives>() {
    let lock = Arc::new(RwLock::<P, u32>::new(1));
    // Two readers inside at once: each waits at a std barrier while holding its guard.
    let both_reading = Arc::new(std::sync::Barrier::new(2));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (lock, both_reading) = (Arc::clone(&lock), Arc::clone(&both_reading));
            std::thread::spawn(move || {
                let guard = lock.read();
                both_reading.wait();
                *guard
            })
        })
        .collect();
    for reader in readers {
        assert_eq!(reader.join().unwrap(), 1);
    }
    let read = lock.read();
    assert!(lock.try_write().is_none());
    assert!(lock.try_read().is_some());
    drop(read);
    let mut write = lock.write();
    *write += 1;
    let other = Arc::clone(&lock);
    let blocked =
        std::thread::spawn(move || other.try_read().is_none() && other.try_write().is_none());
    assert!(blocked.join().unwrap());
    drop(write);
    assert_eq!(Arc::try_unwrap(lock).ok().unwrap().into_inner(), 2);
}

fn try_lock_fails_while_another_thread_holds_the_lock<P: Primitives>() {
    let mutex = Arc::new(Mutex::<P, u32>::new(0));
    let held = mutex.lock();
    let other = Arc::clone(&mutex);
    let tried = std::thread::spawn(move || other.try_lock().is_none());
    assert!(tried.join().unwrap());
    drop(held);
    *mutex.try_lock().expect("free now") += 1;
    assert_eq!(*mutex.lock(), 1);
}

fn a_bounded_channel_holds_its_bound_and_a_rendezvous_waits_for_its_receiver<P: Primitives>() {
    let (tx, rx) = sync_channel::<P, u32>(2);
    tx.send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));
    assert_eq!(rx.try_recv(), Ok(1));
    tx.send(3).unwrap();
    drop(tx);
    assert_eq!((rx.recv(), rx.recv(), rx.recv()), (Some(2), Some(3), None));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    let (tx, rx) = sync_channel::<P, u32>(0);
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    let received = Arc::new(AtomicUsize::<P>::new(0));
    let receiver = {
        let received = Arc::clone(&received);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            let message = rx.recv();
            received.store(1, SeqCst);
            message
        })
    };
    tx.send(7).unwrap();
    // The send returned: the receiver has taken the message (it may not have noted it yet).
    assert_eq!(receiver.join().unwrap(), Some(7));
    assert_eq!(received.load(SeqCst), 1);
}

fn timed_waits_time_out_when_nothing_comes<P: Primitives>() {
    let timeout = Duration::from_millis(20);
    let lock = Mutex::<P, bool>::new(false);
    let ready = Condvar::<P>::new();
    let started = Instant::now();
    let (guard, result) = ready.wait_timeout_while(lock.lock(), timeout, |set| !*set);
    assert!(result.timed_out() && !*guard && started.elapsed() >= timeout);
    drop(guard);

    let pair = Arc::new((Mutex::<P, bool>::new(false), Condvar::<P>::new()));
    let setter = {
        let pair = Arc::clone(&pair);
        std::thread::spawn(move || {
            *pair.0.lock() = true;
            pair.1.notify_all();
        })
    };
    let (guard, result) =
        (pair.1).wait_timeout_while(pair.0.lock(), Duration::from_secs(30), |set| !*set);
    assert!(!result.timed_out() && *guard);
    drop(guard);
    setter.join().unwrap();

    let (_tx, rx) = threadproof::sync::channel::<P, u32>();
    assert_eq!(rx.recv_timeout(timeout), Err(RecvTimeoutError::Timeout));
    let started = Instant::now();
    park_timeout::<P>(timeout);
    // park_timeout may return spuriously, never late by design; it returns.
    assert!(started.elapsed() < Duration::from_secs(30));
}

fn an_unpark_before_the_park_is_kept<P: Primitives>() {
    let parker = Builder::<P>::new()
        .spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            park::<P>(); // the unpark below came first: returns at once
            "parked"
        })
        .unwrap();
    parker.thread().unpark();
    assert_eq!(parker.join().unwrap(), "parked");
}

fn scoped_threads_borrow_and_a_panic_in_one_reaches_the_scope<P: Primitives>() {
    let values = [1, 2, 3, 4];
    let total = AtomicUsize::<P>::new(0);
    let results = scope::<P, _, _>(|s| {
        let handles: Vec<_> = values
            .chunks(2)
            .map(|chunk| {
                let total = &total;
                s.spawn(move || {
                    let sum: usize = chunk.iter().sum();
                    total.fetch_add(sum, SeqCst);
                    sum
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!((results, total.load(SeqCst)), (vec![3, 7], 10));
    let panicked = std::panic::catch_unwind(|| {
        scope::<P, _, _>(|s| {
            s.spawn(|| panic!("a scoped thread fails"));
        })
    });
    assert!(panicked.is_err());
}

fn threads_have_std_s_names<P: Primitives>() {
    let named = Builder::<P>::new()
        .name("worker".into())
        .spawn(|| current::<P>().name().map(str::to_owned))
        .unwrap();
    assert_eq!(named.join().unwrap().as_deref(), Some("worker"));
    let unnamed = Builder::<P>::new()
        .spawn(|| current::<P>().name().map(str::to_owned))
        .unwrap();
    assert_eq!(unnamed.join().unwrap(), None);
}

fn once_runs_once_across_threads<P: Primitives>() {
    let once = Arc::new(Once::<P>::new());
    let runs = Arc::new(AtomicUsize::<P>::new(0));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (once, runs) = (Arc::clone(&once), Arc::clone(&runs));
            std::thread::spawn(move || {
                once.call_once(|| {
                    runs.fetch_add(1, SeqCst);
                });
                once.is_completed()
            })
        })
        .collect();
    assert!(workers.into_iter().all(|w| w.join().unwrap()));
    assert_eq!(runs.load(SeqCst), 1);
}

fn choose_sleep_and_fence_do_what_they_say<P: Primitives>() {
    let values: std::collections::BTreeSet<usize> = (0..500).map(|_| choose::<P>(3)).collect();
    assert_eq!(values.into_iter().collect::<Vec<_>>(), [0, 1, 2]);
    let started = Instant::now();
    sleep::<P>(Duration::from_millis(10));
    assert!(started.elapsed() >= Duration::from_millis(10));
    fence::<P>(SeqCst);
}

/// Code written with the per-backend paths reads like std.
#[test]
fn the_std_paths_read_like_std() {
    use threadproof::sync::std::{atomic, mpsc, thread, Arc, Condvar, Mutex};

    let pair = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
    let (tx, rx) = mpsc::channel();
    let count = Arc::new(atomic::AtomicI64::new(0));
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let (pair, tx, count) = (Arc::clone(&pair), tx.clone(), Arc::clone(&count));
            thread::spawn(move || {
                pair.0.lock().push(i);
                pair.1.notify_all();
                count.fetch_sub(1, atomic::Ordering::SeqCst);
                tx.send(i).unwrap();
            })
        })
        .collect();
    drop(tx);
    for worker in workers {
        worker.join().unwrap();
    }
    let mut received: Vec<i32> = std::iter::from_fn(|| rx.recv()).collect();
    received.sort();
    let mut pushed = pair.0.lock().clone();
    pushed.sort();
    assert_eq!((received, pushed), (vec![0, 1, 2], vec![0, 1, 2]));
    assert_eq!(count.load(atomic::Ordering::SeqCst), -3);
}
