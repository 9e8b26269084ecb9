//! # vpx-once-last-one-out: a hand-rolled `once()` reads its flag unlocked and frees its lock
//!
//! A hand-rolled `once()` runs an initialiser exactly once. It counts the threads inside, and
//! the last one out frees the lock. The `done` flag is read without the lock: a plain-memory
//! data race. T2 reads `done == false`; T1 then runs the whole function, sets `done`, sees
//! itself as the last waiter and frees the lock; T2 now enters a freed lock (use after free),
//! and frees it again on its way out (double free). The fix, `std::sync::Once`'s shape, makes
//! `done` an acquire/release atomic and never frees the lock.
//!
//! Source: CVE-2016-1972, ConVul `cve-benchmark/2016-1972.cpp`; libvpx `vpx_ports/vpx_once.h`
//! (the Windows `once()`: "Last one out should free resources").
//! Class: plain data race and use after free. loom reports the data race on `done`; shuttle,
//! which cannot see races, finds the use after free.

use super::rt::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use super::rt::sync::{Arc, Mutex};
use super::rt::thread;
use super::rt::RaceCell;

/// How many times the initialiser ran.
pub type Outcome = usize;

struct OnceState {
    done: RaceCell<bool>,
    waiters: AtomicUsize,
    lock: Mutex<()>,
    lock_live: AtomicBool,
    runs: AtomicUsize,
}

/// BUGGY (libvpx, Windows): an unlocked plain read of `done`; the last one out frees the lock.
fn once(s: &OnceState) {
    // SAFETY: none: this read races with the write below, which is the bug.
    if unsafe { s.done.get() } {
        return;
    }
    s.waiters.fetch_add(1, SeqCst);
    assert!(
        s.lock_live.load(SeqCst),
        "use after free: entering a freed lock"
    );
    {
        let _guard = s.lock.lock().unwrap();
        // SAFETY: under the lock (but see the unlocked read above).
        if !unsafe { s.done.get() } {
            s.runs.fetch_add(1, SeqCst);
            unsafe { s.done.set(true) };
        }
    }
    if s.waiters.fetch_sub(1, SeqCst) == 1 {
        assert!(
            s.lock_live.swap(false, SeqCst),
            "double free of the once lock"
        );
    }
}

struct OnceFixed {
    done: AtomicBool,
    lock: Mutex<()>,
    runs: AtomicUsize,
}

/// FIXED (`std::sync::Once`'s shape): an atomic flag, and the lock is never freed.
fn once_fixed(s: &OnceFixed) {
    if s.done.load(Acquire) {
        return;
    }
    let _guard = s.lock.lock().unwrap();
    if !s.done.load(Relaxed) {
        s.runs.fetch_add(1, SeqCst);
        s.done.store(true, Release);
    }
}

pub fn buggy() -> Outcome {
    let state = Arc::new(OnceState {
        done: RaceCell::new(false),
        waiters: AtomicUsize::new(0),
        lock: Mutex::new(()),
        lock_live: AtomicBool::new(true),
        runs: AtomicUsize::new(0),
    });
    let other = {
        let state = Arc::clone(&state);
        thread::spawn(move || once(&state))
    };
    once(&state);
    other.join().unwrap();
    state.runs.load(SeqCst)
}

pub fn fixed() -> Outcome {
    let state = Arc::new(OnceFixed {
        done: AtomicBool::new(false),
        lock: Mutex::new(()),
        runs: AtomicUsize::new(0),
    });
    let other = {
        let state = Arc::clone(&state);
        thread::spawn(move || once_fixed(&state))
    };
    once_fixed(&state);
    other.join().unwrap();
    state.runs.load(SeqCst)
}

pub fn invariant(runs: &Outcome) -> Result<(), String> {
    if *runs == 1 {
        Ok(())
    } else {
        Err(format!("the initialiser ran {runs} times"))
    }
}
