//! # pool-abandoned-latch-timeout: a borrower that gives up leaves its latch queued
//!
//! A blocking object pool queues a latch per borrower and hands returned objects to the
//! oldest queued latch. A borrower that times out simply leaves, and its latch stays in the
//! queue. The next returned object is assigned to the dead latch and is never seen again:
//! T1 queues and waits, times out and returns empty-handed; main returns the object, and
//! `allocate` gives it to T1's abandoned latch. The fix, on timeout, takes the pool lock and
//! removes its latch if it is still queued; if the latch was granted meanwhile, it keeps the
//! object.
//!
//! Source: POOL-162, JaConTeBe `jacontebe/pool/src/Test162.java` and
//! `jacontebe/pool/description/162.html` (steps a-j: "thread 1's latch is not removed when it
//! is interrupted"); commons-pool 1.5 `GenericObjectPool`.
//! Class: a timeout path breaks an invariant (the object leaks); fails its invariant on every
//! threadproof checker, whose timeouts are explored choices. Neither raw engine ever times a
//! wait out, so the bug is out of their reach.

use std::collections::VecDeque;
use std::time::Duration;

use super::rt::sync::{Arc, Condvar, Mutex};
use super::rt::thread;

/// What the borrower got, and the objects left idle in the pool.
pub type Outcome = (Option<u32>, Vec<u32>);

const OBJECT: u32 = 7;

#[derive(Default)]
struct Latch {
    object: Mutex<Option<u32>>,
    granted: Condvar,
}

struct Pool {
    idle: Vec<u32>,
    queue: VecDeque<Arc<Latch>>,
}

fn allocate(pool: &mut Pool) {
    while !pool.idle.is_empty() && !pool.queue.is_empty() {
        let latch = pool.queue.pop_front().unwrap();
        *latch.object.lock().unwrap() = pool.idle.pop();
        latch.granted.notify_one();
    }
}

fn give_back(pool: &Mutex<Pool>, object: u32) {
    let mut pool = pool.lock().unwrap();
    pool.idle.push(object);
    allocate(&mut pool);
}

fn borrow(pool: &Mutex<Pool>, fixed: bool) -> Option<u32> {
    let latch = Arc::new(Latch::default());
    {
        let mut pool = pool.lock().unwrap();
        pool.queue.push_back(Arc::clone(&latch));
        allocate(&mut pool);
    }
    let mut object = latch.object.lock().unwrap();
    while object.is_none() {
        let (relocked, result) = latch
            .granted
            .wait_timeout(object, Duration::from_secs(1))
            .unwrap();
        object = relocked;
        if result.timed_out() && object.is_none() {
            if !fixed {
                return None; // BUGGY: the latch stays queued
            }
            // FIXED (POOL-162): take the latch back out, unless it was granted meanwhile.
            drop(object);
            let mut pool = pool.lock().unwrap();
            if let Some(i) = pool.queue.iter().position(|l| Arc::ptr_eq(l, &latch)) {
                pool.queue.remove(i);
                return None;
            }
            drop(pool);
            return latch.object.lock().unwrap().take();
        }
    }
    object.take()
}

fn model(fixed: bool) -> Outcome {
    // The pool's one object is lent out to main.
    let pool = Arc::new(Mutex::new(Pool {
        idle: Vec::new(),
        queue: VecDeque::new(),
    }));
    let borrower = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || borrow(&pool, fixed))
    };
    give_back(&pool, OBJECT);
    let got = borrower.join().unwrap();
    let idle = pool.lock().unwrap().idle.clone();
    (got, idle)
}

pub fn buggy() -> Outcome {
    model(false)
}

pub fn fixed() -> Outcome {
    model(true)
}

/// The object is held by the borrower or idle in the pool: never lost.
pub fn invariant((got, idle): &Outcome) -> Result<(), String> {
    if *got == Some(OBJECT) || idle.contains(&OBJECT) {
        Ok(())
    } else {
        Err(format!("object {OBJECT} leaked to an abandoned latch"))
    }
}
