//! # pool-latch-notify-before-wait: commons-pool grants a latch before its borrower waits
//!
//! A blocking object pool queues each borrower's latch and, when capacity frees up,
//! `allocate()` grants the latch and notifies it. The borrower queues its latch under the
//! pool lock, releases it, and only afterwards waits on the latch, without checking whether
//! it was already granted. If another thread frees capacity and runs `allocate()` in that
//! gap, the notify finds nobody waiting, and the borrower then waits forever for a
//! notification that has already happened. The fix waits in a loop on the latch's own state.
//!
//! Source: POOL-149, JaConTeBe `jacontebe/pool/src/Test149.java` and
//! `jacontebe/pool/description/149.html` (steps a-f: "Because latch waits after notifies, it
//! will wait forever"); commons-pool 1.5 `GenericObjectPool`.
//! Class: lost wakeup (signal before wait); deadlock on every checker.

use std::collections::VecDeque;

use super::rt::sync::{Arc, Condvar, Mutex};
use super::rt::thread;

/// Whether the borrower's latch was granted when it stopped waiting.
pub type Outcome = bool;

struct Latch {
    granted: Mutex<bool>,
    ready: Condvar,
}

struct PoolState {
    active: usize,
    max_active: usize,
    queue: VecDeque<Arc<Latch>>,
}

fn allocate(pool: &mut PoolState) {
    while pool.active < pool.max_active {
        let Some(latch) = pool.queue.pop_front() else {
            break;
        };
        pool.active += 1;
        *latch.granted.lock().unwrap() = true;
        latch.ready.notify_one();
    }
}

fn borrow(pool: &Mutex<PoolState>, fixed: bool) -> Outcome {
    let latch = Arc::new(Latch {
        granted: Mutex::new(false),
        ready: Condvar::new(),
    });
    {
        let mut pool = pool.lock().unwrap();
        pool.queue.push_back(Arc::clone(&latch));
        allocate(&mut pool);
    }
    let mut granted = latch.granted.lock().unwrap();
    if fixed {
        while !*granted {
            granted = latch.ready.wait(granted).unwrap();
        }
    } else {
        granted = latch.ready.wait(granted).unwrap(); // BUGGY: no predicate, an earlier notify is lost
    }
    *granted
}

fn invalidate(pool: &Mutex<PoolState>) {
    let mut pool = pool.lock().unwrap();
    pool.active -= 1;
    allocate(&mut pool);
}

fn model(fixed: bool) -> Outcome {
    // One object is out (active 1 of 1): the borrower must wait for the invalidation.
    let pool = Arc::new(Mutex::new(PoolState {
        active: 1,
        max_active: 1,
        queue: VecDeque::new(),
    }));
    let borrower = {
        let pool = Arc::clone(&pool);
        thread::spawn(move || borrow(&pool, fixed))
    };
    invalidate(&pool);
    borrower.join().unwrap()
}

pub fn buggy() -> Outcome {
    model(false)
}

pub fn fixed() -> Outcome {
    model(true)
}

/// Any return is fine here; the bug is the wait that never returns. (A spurious wakeup lets
/// the buggy borrower return ungranted, a second bug this invariant leaves alone.)
pub fn invariant(_: &Outcome) -> Result<(), String> {
    Ok(())
}
