//! # semaphore-release-unacquired: `finally { release() }` after a failed `tryAcquire`
//!
//! A `Semaphore(1)` guards the creation of a storage writer. The code tries to acquire, gives
//! up if it cannot, and releases in `finally`, which also runs on the failure path. T1 holds
//! the permit and is inside; T2's `try_acquire` fails, and its `finally` releases a permit it
//! never had; T3 acquires and is inside together with T1. Every failure adds a permit, and
//! the mutual exclusion silently disappears. The fix releases only what was acquired.
//!
//! Source: sirixdb/sirix issue #1072 ("MMStorage releases its semaphore on paths that never
//! acquired it"); the same pattern in files-community/Files PR #7112 ("Do not release the
//! Semaphore if it was not acquired first").
//! Class: semaphore misuse; fails its invariant on every checker. std has no semaphore, so
//! the program carries its own, a count of permits under a `Mutex`, as a std user writes one
//! (Java's `Semaphore.release` likewise adds a permit whoever calls it).

use super::rt::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use super::rt::sync::{Arc, Mutex};
use super::rt::thread;

/// The most writers inside at once.
pub type Outcome = usize;

/// A counting semaphore: `try_acquire` takes a permit if one is free, `release` adds one
/// (whether or not the caller took one: that is the misuse).
struct Semaphore {
    permits: Mutex<usize>,
}

impl Semaphore {
    fn new(permits: usize) -> Self {
        Semaphore {
            permits: Mutex::new(permits),
        }
    }

    fn try_acquire(&self) -> bool {
        let mut permits = self.permits.lock().unwrap();
        let free = *permits > 0;
        if free {
            *permits -= 1;
        }
        free
    }

    fn release(&self) {
        *self.permits.lock().unwrap() += 1;
    }
}

struct Storage {
    permits: Semaphore,
    inside: AtomicUsize,
    most: AtomicUsize,
    /// FIXED: release only an acquired permit.
    fixed: bool,
}

fn open_writer(storage: &Storage) -> Result<(), &'static str> {
    let acquired = storage.permits.try_acquire();
    let result = if acquired {
        let now = storage.inside.fetch_add(1, SeqCst) + 1;
        storage.most.fetch_max(now, SeqCst);
        storage.inside.fetch_sub(1, SeqCst);
        Ok(())
    } else {
        Err("Couldn't acquire semaphore.")
    };
    if acquired || !storage.fixed {
        storage.permits.release(); // BUGGY: the `finally` releases whether acquired or not
    }
    result
}

fn model(fixed: bool) -> Outcome {
    let storage = Arc::new(Storage {
        permits: Semaphore::new(1),
        inside: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
        fixed,
    });
    let others: Vec<_> = (0..2)
        .map(|_| {
            let storage = Arc::clone(&storage);
            thread::spawn(move || open_writer(&storage).is_ok())
        })
        .collect();
    let _ = open_writer(&storage);
    for other in others {
        other.join().unwrap();
    }
    storage.most.load(SeqCst)
}

pub fn buggy() -> Outcome {
    model(false)
}

pub fn fixed() -> Outcome {
    model(true)
}

pub fn invariant(most: &Outcome) -> Result<(), String> {
    if *most <= 1 {
        Ok(())
    } else {
        Err(format!("{most} writers at once"))
    }
}
